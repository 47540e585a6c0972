/** Auto-layout left-to-right with dagre; notes keep their place. */
import dagre from "@dagrejs/dagre";
import type { AppEdge, AppNode } from "../nodes/types";

export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 72;

export function layoutNodes(nodes: AppNode[], edges: AppEdge[]): AppNode[] {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 40, ranksep: 80 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) {
    if (n.type === "note") continue;
    g.setNode(n.id, { width: n.measured?.width ?? NODE_WIDTH, height: n.measured?.height ?? NODE_HEIGHT });
  }
  for (const e of edges) if (g.hasNode(e.source) && g.hasNode(e.target)) g.setEdge(e.source, e.target);
  dagre.layout(g);
  return nodes.map((n) => {
    if (n.type === "note") return n;
    const p = g.node(n.id);
    if (!p) return n;
    return { ...n, position: { x: p.x - p.width / 2, y: p.y - p.height / 2 } };
  });
}
