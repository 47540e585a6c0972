/** The React Flow canvas, bound to the editor store. */
import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  useNodesInitialized,
  useReactFlow,
  type Connection,
  type Edge,
  type IsValidConnection,
} from "@xyflow/react";
import { useCallback, useEffect, useRef, useState, type DragEvent } from "react";
import { useShallow } from "zustand/react/shallow";
import { checkConnection } from "../graph/connect";
import type { NodeType } from "../graph/format";
import { NODE_META } from "../nodes/catalog";
import { nodeTypes } from "../nodes";
import type { AppEdge, AppNode } from "../nodes/types";
import { DRAG_MIME } from "./Palette";
import { useEditor, useEditorStore } from "./store";

const minimapColor = (n: AppNode) =>
  ({ core: "#6366f1", tools: "#0ea5e9", logic: "#f59e0b", data: "#10b981" })[NODE_META[n.type]?.group ?? "core"];

export function Canvas() {
  const store = useEditorStore();
  const { nodes, edges, onNodesChange, onEdgesChange, connect } = useEditor(
    useShallow((s) => ({
      nodes: s.nodes,
      edges: s.edges,
      onNodesChange: s.onNodesChange,
      onEdgesChange: s.onEdgesChange,
      connect: s.connect,
    })),
  );
  const { screenToFlowPosition, fitView } = useReactFlow();
  // Fit once, after the cards have been measured (fitting before that centres on zero-size boxes).
  const initialized = useNodesInitialized();
  // An empty canvas keeps its viewport, so that dropping the first node does not move the view.
  const fitted = useRef(store.getState().nodes.length === 0);
  useEffect(() => {
    if (initialized && !fitted.current) {
      fitted.current = true;
      void fitView({ padding: 0.15, maxZoom: 1 });
    }
  }, [initialized, fitView]);
  const [hint, setHint] = useState<string | null>(null);
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
      if (!type || !(type in NODE_META)) return;
      e.preventDefault();
      const p = screenToFlowPosition({ x: e.clientX, y: e.clientY });
      store.getState().addNode(type, { position: { x: p.x - 100, y: p.y - 30 } });
    },
    [screenToFlowPosition, store],
  );

  return (
    <div className="canvas" onDragOver={(e) => { e.preventDefault(); e.dataTransfer.dropEffect = "move"; }} onDrop={onDrop}>
      <ReactFlow<AppNode, AppEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
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
        onlyRenderVisibleElements
        proOptions={{ hideAttribution: true }}
        aria-label="Workflow canvas"
      >
        <Background gap={20} />
        <MiniMap pannable zoomable nodeColor={minimapColor} ariaLabel="Minimap" style={{ width: 160, height: 110 }} />
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
