/** The rules checked while the user drags a connection: no edge into start, no duplicate, no cycle except through a while loop. */
import type { Connection } from "@xyflow/react";
import type { AppEdge, AppNode } from "../nodes/types";
import { hasInputPort, outputPorts } from "./ports";

export type ConnectionVerdict = { ok: true } | { ok: false; reason: string };

export const portOf = (edge: Pick<AppEdge, "sourceHandle">): string => edge.sourceHandle ?? "out";

/** A loop edge is the `loop` port of a while node: the only place a cycle may pass. */
function isLoopEdge(nodesById: Map<string, AppNode>, source: string, port: string): boolean {
  return nodesById.get(source)?.type === "while" && port === "loop";
}

export function checkConnection(nodes: AppNode[], edges: AppEdge[], conn: Connection): ConnectionVerdict {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const source = byId.get(conn.source);
  const target = byId.get(conn.target);
  if (!source || !target) return { ok: false, reason: "Unknown node" };
  if (conn.source === conn.target) return { ok: false, reason: "A node cannot connect to itself" };
  if (!hasInputPort(target)) return { ok: false, reason: target.type === "start" ? "Nothing can lead into Start" : "Notes have no ports" };
  const port = conn.sourceHandle ?? "out";
  if (!outputPorts(source).some((p) => p.id === port)) return { ok: false, reason: `No port "${port}" on ${source.id}` };
  if (edges.some((e) => e.source === conn.source && portOf(e) === port && e.target === conn.target)) {
    return { ok: false, reason: "These nodes are already connected" };
  }
  if (isLoopEdge(byId, conn.source, port)) return { ok: true };
  // Would the new edge close a cycle that does not pass through a while loop port?
  const adjacency = new Map<string, string[]>();
  for (const e of edges) {
    if (isLoopEdge(byId, e.source, portOf(e))) continue;
    const list = adjacency.get(e.source);
    if (list) list.push(e.target);
    else adjacency.set(e.source, [e.target]);
  }
  const seen = new Set<string>([conn.target]);
  const stack = [conn.target];
  while (stack.length) {
    const id = stack.pop()!;
    if (id === conn.source) return { ok: false, reason: "That would make a cycle (loops go through a While node)" };
    for (const next of adjacency.get(id) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        stack.push(next);
      }
    }
  }
  return { ok: true };
}
