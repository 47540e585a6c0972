/** The React Flow canvas, bound to the editor store. */
import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  useNodesInitialized,
  useReactFlow,
  useStore as useFlowStore,
  type Connection,
  type Edge,
  type IsValidConnection,
} from "@xyflow/react";
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from "react";
import { useShallow } from "zustand/react/shallow";
import { checkConnection } from "../graph/connect";
import type { NodeType } from "../graph/format";
import { canvasNodeTypes } from "../nodes";
import { nodeTypeInfo } from "../nodes/registry";
import type { AppEdge, AppNode } from "../nodes/types";
import { DRAG_MIME } from "./Palette";
import { useEditor, useEditorStore } from "./store";

/** Past this many nodes the editor opens readable at the Start node instead of fitting everything. */
export const LARGE_GRAPH = 300;
// Below this zoom card text is too small to read (and is not painted, see `.canvas.far`).
const READABLE_ZOOM = 0.75;

const minimapColor = (n: AppNode) =>
  ({ core: "#6366f1", tools: "#0ea5e9", logic: "#f59e0b", data: "#10b981" })[nodeTypeInfo(n.type)?.group ?? "core"];

export function Canvas() {
  const store = useEditorStore();
  const nodeTypes = useMemo(canvasNodeTypes, []);
  const { nodes, edges, onNodesChange, onEdgesChange, connect } = useEditor(
    useShallow((s) => ({
      nodes: s.nodes,
      edges: s.edges,
      onNodesChange: s.onNodesChange,
      onEdgesChange: s.onEdgesChange,
      connect: s.connect,
    })),
  );
  const { screenToFlowPosition, fitView, getZoom, setViewport } = useReactFlow();
  const far = useFlowStore((s) => s.transform[2] < 0.4);
  // Fit once, after the cards have been measured (fitting before that centres on zero-size boxes).
  const initialized = useNodesInitialized();
  // An empty canvas keeps its viewport, so that dropping the first node does not move the view; a large
  // graph opens at its Start node (only the cards in view are rendered; F fits everything).
  const initialCount = store.getState().nodes.length;
  const fitted = useRef(initialCount === 0 || initialCount > LARGE_GRAPH);
  const defaultViewport = useMemo(() => {
    const { nodes: all } = store.getState();
    if (all.length <= LARGE_GRAPH) return undefined;
    const start = all.find((n) => n.type === "start") ?? all[0];
    const zoom = 0.8;
    return { x: 60 - start.position.x * zoom, y: 160 - start.position.y * zoom, zoom };
  }, [store]);
  useEffect(() => {
    if (initialized && !fitted.current) {
      fitted.current = true;
      void fitView({ padding: 0.15, maxZoom: 1 }).then(() => {
        // A wide graph fitted into the canvas would be too small to read: open at its Start, readable,
        // instead (F or the Fit button still shows everything).
        if (getZoom() >= READABLE_ZOOM) return;
        const all = store.getState().nodes;
        const start = all.find((n) => n.type === "start") ?? all[0];
        if (!start) return;
        void setViewport({ x: 40 - start.position.x * READABLE_ZOOM, y: (window.innerHeight - 120) / 2 - start.position.y * READABLE_ZOOM, zoom: READABLE_ZOOM });
      });
      requestAnimationFrame(() => requestAnimationFrame(() => window.setTimeout(() => setShowMinimap(true), 100)));
    }
  }, [initialized, fitView, getZoom, setViewport, store]);
  const [hint, setHint] = useState<string | null>(null);
  // The minimap draws every node again: mount it after the canvas has painted, so it never delays opening.
  const [showMinimap, setShowMinimap] = useState(() => initialCount === 0);
  useEffect(() => {
    if (initialCount <= LARGE_GRAPH) return;
    const t = window.setTimeout(() => setShowMinimap(true), 500);
    return () => window.clearTimeout(t);
  }, [initialCount]);
  const hintTimer = useRef<number | undefined>(undefined);
  const showHint = (text: string) => {
    setHint(text);
    window.clearTimeout(hintTimer.current);
    hintTimer.current = window.setTimeout(() => setHint(null), 2500);
  };

  const isValidConnection: IsValidConnection<AppEdge> = useCallback(
    (c: Edge | Connection) => {
      const s = store.getState();
      const verdict = checkConnection(s.nodes, s.edges, {
        source: c.source,
        target: c.target,
        sourceHandle: c.sourceHandle ?? null,
        targetHandle: c.targetHandle ?? null,
      });
      if (!verdict.ok) setHint(verdict.reason);
      else setHint(null);
      return verdict.ok;
    },
    [store],
  );

  const onConnect = useCallback(
    (c: Connection) => {
      const verdict = connect(c);
      if (!verdict.ok) showHint(verdict.reason);
    },
    [connect],
  );

  const onDrop = useCallback(
    (e: DragEvent) => {
      const type = e.dataTransfer.getData(DRAG_MIME) as NodeType;
      if (!type || !nodeTypeInfo(type)) return;
      e.preventDefault();
      const p = screenToFlowPosition({ x: e.clientX, y: e.clientY });
      store.getState().addNode(type, { position: { x: p.x - 100, y: p.y - 30 } });
    },
    [screenToFlowPosition, store],
  );

  return (
    <div className={far ? "canvas far" : "canvas"} onDragOver={(e) => { e.preventDefault(); e.dataTransfer.dropEffect = "move"; }} onDrop={onDrop}>
      <ReactFlow<AppNode, AppEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        defaultViewport={defaultViewport}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        onConnectEnd={() => {
          window.clearTimeout(hintTimer.current);
          hintTimer.current = window.setTimeout(() => setHint(null), 2000);
        }}
        isValidConnection={isValidConnection}
        deleteKeyCode={null}
        selectionKeyCode="Shift"
        multiSelectionKeyCode={["Meta", "Control", "Shift"]}
        defaultEdgeOptions={{ type: "smoothstep" }}
        minZoom={0.05}
        maxZoom={2}
        onlyRenderVisibleElements={!far}
        proOptions={{ hideAttribution: true }}
        aria-label="Workflow canvas"
      >
        {!far && <Background gap={20} />}
        {showMinimap && (
          <MiniMap pannable zoomable nodeColor={minimapColor} ariaLabel="Minimap" style={{ width: 160, height: 110 }} />
        )}
        <Controls showInteractive={false} />
      </ReactFlow>
      {nodes.length === 0 && (
        <div className="canvas-empty">
          <h2>Start building</h2>
          <p>Drag <strong>Start</strong> from the palette onto the canvas, then add an Agent and an End and connect them.</p>
        </div>
      )}
      {hint && (
        <div className="canvas-hint" role="status">
          {hint}
        </div>
      )}
    </div>
  );
}
