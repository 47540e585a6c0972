/**
 * A read-only canvas: the editor's own node cards (nodes/) rendered from a wire graph, with optional run
 * status per node (the trace) and a CSS mark per node or edge (the version diff). The cards read their run
 * status (and, here, no issues) from a read-only node view.
 */
import { Background, Controls, ReactFlow, ReactFlowProvider, useNodesInitialized, useNodesState, useReactFlow } from "@xyflow/react";
import { useEffect, useMemo, useState } from "react";
import type { StepStatus } from "../../api/events";
import { createReadOnlyNodeView, NodeViewContext } from "../../fields/context";
import { toCanvas } from "../../graph/convert";
import type { Graph } from "../../graph/format";
import { canvasNodeTypes } from "../../nodes";
import type { AppEdge, AppNode } from "../../nodes/types";

export interface GraphViewProps {
  graph: Graph;
  /** node id → run status, drawn on the cards like the editor's test run. */
  status?: Record<string, StepStatus>;
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
  const [store] = useState(createReadOnlyNodeView);
  const { graph, status } = props;
  useEffect(() => {
    store.setState({ nodeStatus: status ?? {} });
  }, [store, status]);
  return (
    <NodeViewContext.Provider value={store}>
      <ReactFlowProvider>
        <GraphCanvas {...props} graph={graph} />
      </ReactFlowProvider>
    </NodeViewContext.Provider>
  );
}

function GraphCanvas({ graph, nodeClass, edgeClass, selectedId, onSelect, label, height = 360 }: GraphViewProps) {
  const derived = useMemo(() => {
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
  // React Flow keeps the measured sizes on the node objects it hands back through onNodesChange, so the
  // nodes live in state and are re-derived (keeping their measurements) when the inputs change.
  const [nodes, setNodes, onNodesChange] = useNodesState<AppNode>(derived.nodes);
  useEffect(() => {
    setNodes((prev) => {
      const measured = new Map(prev.map((n) => [n.id, n.measured]));
      return derived.nodes.map((n) => ({ ...n, measured: measured.get(n.id) }));
    });
  }, [derived.nodes, setNodes]);
  const edges = derived.edges;
  const nodeTypes = useMemo(canvasNodeTypes, []);
  // Fit once the cards have been measured (the fitView prop can run before that on a controlled flow).
  const initialized = useNodesInitialized();
  const { fitView } = useReactFlow();
  useEffect(() => {
    if (initialized) void fitView({ maxZoom: 1, padding: 0.15 });
  }, [initialized, graph, fitView]);

  return (
    <div className="graph-view" style={{ height }}>
      <ReactFlow<AppNode, AppEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
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
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
