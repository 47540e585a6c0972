/**
 * Builds the canvas for a visual diff of two versions: the union of both graphs, each node and edge marked
 * added / removed / changed from the API's diff (removed ones keep their old position), plus a readable
 * list of per-field changes.
 */
import type { GraphDiff } from "../../api/screens";
import { GRAPH_FORMAT, type Graph, type GraphEdge, type GraphNode, type Position } from "../../graph/format";
import { NODE_HEIGHT, NODE_WIDTH } from "../../graph/layout";

export type Mark = "added" | "removed" | "changed";

export interface DiffCanvas {
  graph: Graph;
  nodeMarks: Record<string, Mark>;
  edgeMarks: Record<string, Mark>;
}

const edgeKey = (e: { source: string; source_port?: string; target: string }) =>
  `${e.source}|${e.source_port || "out"}|${e.target}`;

export function diffCanvas(before: Graph, after: Graph, diff: GraphDiff): DiffCanvas {
  const nodeMarks: Record<string, Mark> = {};
  for (const id of diff.nodes.added) nodeMarks[id] = "added";
  for (const id of diff.nodes.removed) nodeMarks[id] = "removed";
  for (const c of diff.nodes.changed) nodeMarks[c.id] = "changed";

  // A removed node keeps its old place unless a node of the newer version sits there now (a replaced
  // step usually does): then it moves down until it overlaps nothing, so that both stay readable.
  const nodes: GraphNode[] = [...after.nodes];
  for (const old of before.nodes.filter((n) => diff.nodes.removed.includes(n.id))) {
    const position = freeSpot(old.position ?? { x: 0, y: 0 }, nodes);
    nodes.push({ ...old, position });
  }

  const added = new Set(diff.edges.added.map(edgeKey));
  const removed = new Set(diff.edges.removed.map(edgeKey));
  const edgeMarks: Record<string, Mark> = {};
  const edges: GraphEdge[] = after.edges.map((e) => {
    if (added.has(edgeKey(e))) edgeMarks[e.id] = "added";
    return e;
  });
  const taken = new Set(edges.map((e) => e.id));
  for (const e of before.edges) {
    if (!removed.has(edgeKey(e))) continue;
    // Ids may repeat across versions for different edges; keep both on the canvas.
    let id = e.id;
    while (taken.has(id)) id = `${id}_removed`;
    taken.add(id);
    edges.push({ ...e, id });
    edgeMarks[id] = "removed";
  }
  return { graph: { format: GRAPH_FORMAT, nodes, edges }, nodeMarks, edgeMarks };
}

const GAP = 24;

function overlaps(a: Position, b: Position): boolean {
  return Math.abs(a.x - b.x) < NODE_WIDTH && Math.abs(a.y - b.y) < NODE_HEIGHT + GAP / 2;
}

export function freeSpot(at: Position, placed: GraphNode[]): Position {
  const p = { ...at };
  while (placed.some((n) => n.position && overlaps(p, n.position))) p.y += NODE_HEIGHT + GAP;
  return p;
}

/** A short, readable rendering of a changed value. */
export function showValue(v: unknown, max = 80): string {
  if (v === null || v === undefined) return "(none)";
  const s = typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** "config.cases[0].condition" → "Cases › 1 › Condition" — field paths as a person reads them. */
export function fieldLabel(path: string): string {
  return path
    .replace(/^config\./, "")
    .split(/\.|\[(\d+)\]/)
    .filter((p) => p !== undefined && p !== "")
    .map((p) => (/^\d+$/.test(p) ? String(Number(p) + 1) : p.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase())))
    .join(" › ");
}

export function diffSummary(diff: GraphDiff): string {
  const parts = [
    diff.nodes.added.length && `${diff.nodes.added.length} added`,
    diff.nodes.removed.length && `${diff.nodes.removed.length} removed`,
    diff.nodes.changed.length && `${diff.nodes.changed.length} changed`,
    diff.edges.added.length + diff.edges.removed.length &&
      `${diff.edges.added.length + diff.edges.removed.length} connection change${diff.edges.added.length + diff.edges.removed.length > 1 ? "s" : ""}`,
  ].filter(Boolean);
  return parts.length ? parts.join(", ") : "No differences";
}
