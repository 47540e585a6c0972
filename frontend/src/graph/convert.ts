/** Converts between the wire graph and the canvas's nodes and edges. */
import type { AppEdge, AppNode } from "../nodes/types";
import { NODE_HEIGHT, NODE_WIDTH } from "./layout";
import { GRAPH_FORMAT, type Graph, type GraphEdge, type GraphNode } from "./format";

export function toCanvas(graph: Graph): { nodes: AppNode[]; edges: AppEdge[] } {
  const nodes = graph.nodes.map(
    (n, i) =>
      ({
        id: n.id,
        type: n.type,
        position: n.position ?? { x: i * 260, y: 0 },
        // Known before measuring, so that off-screen cards are not rendered just to be measured.
        initialWidth: NODE_WIDTH,
        initialHeight: NODE_HEIGHT,
        data: { name: n.name, config: n.config ?? {} },
      }) as unknown as AppNode,
  );
  const edges: AppEdge[] = graph.edges.map((e) => ({
    id: e.id,
    source: e.source,
    target: e.target,
    sourceHandle: e.source_port ?? "out",
  }));
  return { nodes, edges };
}

export function toGraph(nodes: AppNode[], edges: AppEdge[]): Graph {
  const outNodes: GraphNode[] = nodes.map((n) => ({
    id: n.id,
    type: n.type,
    name: n.data.name,
    position: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
    config: n.data.config as unknown as Record<string, unknown>,
  }));
  const outEdges: GraphEdge[] = edges.map((e) => {
    const edge: GraphEdge = { id: e.id, source: e.source, target: e.target };
    if (e.sourceHandle && e.sourceHandle !== "out") edge.source_port = e.sourceHandle;
    return edge;
  });
  return { format: GRAPH_FORMAT, nodes: outNodes, edges: outEdges };
}
