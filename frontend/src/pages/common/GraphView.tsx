/**
 * A read-only canvas: the editor's own node cards (nodes/) rendered from a wire graph, with optional run
 * status per node (the trace) and a CSS mark per node or edge (the version diff). It gives the cards an
 * editor store of their own because they read their run status and issues from one.
 */
import { Background, Controls, MiniMap, ReactFlow, ReactFlowProvider } from "@xyflow/react";
import { useEffect, useMemo, useState } from "react";
import { createEditorStore, EditorStoreContext, type EditorStore } from "../../editor/store";
import type { NodeRunStatus } from "../../editor/store/runSlice";
import { toCanvas } from "../../graph/convert";
import type { Graph } from "../../graph/format";
import { nodeTypes } from "../../nodes";
import type { AppEdge, AppNode } from "../../nodes/types";

export interface GraphViewProps {
  graph: Graph;
  /** node id → run status, drawn on the cards like the editor's test run. */
  status?: Record<string, NodeRunStatus>;
  /** node id → extra class (e.g. "diff-added"). */
  nodeClass?: Record<string, string>;
  /** edge id → extra class. */
  edgeClass?: Record<string, string>;
  selectedId?: string | null;
  onSelect?: (nodeId: string | null) => void;
  label?: string;
  height?: number | string;
}

export function GraphView(props: GraphViewProps) {
  const [store] = useState<EditorStore>(createEditorStore);
  const { graph, status } = props;
  useEffect(() => {
    store.setState({ nodeStatus: status ?? {} });
  }, [store, status]);
  return (
    <EditorStoreContext.Provider value={store}>
      <ReactFlowProvider>
        <GraphCanvas {...props} graph={graph} />
      </ReactFlowProvider>
    </EditorStoreContext.Provider>
  );
}

function GraphCanvas({ graph, nodeClass, edgeClass, selectedId, onSelect, label, height = 360 }: GraphViewProps) {
  const { nodes, edges } = useMemo(() => {
    const c = toCanvas(graph);
    const ns: AppNode[] = c.nodes.map((n) => ({
      ...n,
      className: nodeClass?.[n.id],
      selected: n.id === selectedId,
      draggable: false,
      connectable: false,
    }));
    const es: AppEdge[] = c.edges.map((e) => ({ ...e, type: "smoothstep", className: edgeClass?.[e.id], focusable: false }));
    return { nodes: ns, edges: es };
  }, [graph, nodeClass, edgeClass, selectedId]);

  return (
    <div className="graph-view" style={{ height }}>
      <ReactFlow<AppNode, AppEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        nodesDraggable={false}
        nodesConnectable={false}
        edgesFocusable={false}
        elementsSelectable={!!onSelect}
        deleteKeyCode={null}
        onNodeClick={(_, n) => onSelect?.(n.id)}
        onPaneClick={() => onSelect?.(null)}
        fitView
        fitViewOptions={{ maxZoom: 1, padding: 0.15 }}
        minZoom={0.05}
        maxZoom={2}
        proOptions={{ hideAttribution: true }}
        aria-label={label ?? "Workflow graph (read-only)"}
      >
        <Background gap={20} />
        <MiniMap pannable zoomable ariaLabel="Minimap" />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
