/** The names an expression may use at a given node (DESIGN §5), for autocomplete and hints. */
import type { JsonSchema } from "../nodes/common";
import type { AppEdge, AppNode } from "../nodes/types";
import { outputSchemaOf } from "../nodes/registry";
import { portOf } from "./connect";

export interface ScopeEntry {
  path: string;
  detail: string;
}

function schemaPaths(prefix: string, schema: JsonSchema | undefined, depth = 0): ScopeEntry[] {
  if (!schema || depth > 3) return [];
  const out: ScopeEntry[] = [];
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    const path = `${prefix}.${key}`;
    out.push({ path, detail: String(sub.type ?? "any") });
    out.push(...schemaPaths(path, sub, depth + 1));
  }
  return out;
}

/** The fields a node's output is known to have, as a JSON Schema (or undefined when unknown). */
export function outputSchema(node: AppNode): JsonSchema | undefined {
  return outputSchemaOf(node.type, node.data.config as unknown as Record<string, unknown>);
}

export function ancestors(nodeId: string, edges: AppEdge[]): Set<string> {
  const incoming = new Map<string, string[]>();
  for (const e of edges) {
    const list = incoming.get(e.target);
    if (list) list.push(e.source);
    else incoming.set(e.target, [e.source]);
  }
  const seen = new Set<string>();
  const stack = [...(incoming.get(nodeId) ?? [])];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(incoming.get(id) ?? []));
  }
  seen.delete(nodeId);
  return seen;
}

/** The while nodes whose loop body contains `nodeId`. */
export function enclosingLoops(nodeId: string, nodes: AppNode[], edges: AppEdge[]): string[] {
  const outgoing = new Map<string, string[]>();
  for (const e of edges) {
    const list = outgoing.get(e.source);
    if (list) list.push(e.target);
    else outgoing.set(e.source, [e.target]);
  }
  const loops: string[] = [];
  for (const w of nodes) {
    if (w.type !== "while") continue;
    const seen = new Set<string>();
    const stack = edges.filter((e) => e.source === w.id && portOf(e) === "loop").map((e) => e.target);
    while (stack.length) {
      const id = stack.pop()!;
      if (id === w.id || seen.has(id)) continue;
      seen.add(id);
      stack.push(...(outgoing.get(id) ?? []));
    }
    if (seen.has(nodeId)) loops.push(w.id);
  }
  return loops;
}

export function stateVariables(nodes: AppNode[]): string[] {
  const names = new Set<string>();
  for (const n of nodes) {
    if (n.type === "start") Object.keys(n.data.config.state ?? {}).forEach((k) => names.add(k));
    if (n.type === "set_state") (n.data.config.assignments ?? []).forEach((a) => a.variable && names.add(a.variable));
  }
  return [...names].sort();
}

export function scopeAt(nodeId: string, nodes: AppNode[], edges: AppEdge[]): ScopeEntry[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const start = nodes.find((n) => n.type === "start");
  const entries: ScopeEntry[] = [{ path: "workflow.input", detail: "run input" }];
  if (start?.type === "start") entries.push(...schemaPaths("workflow.input", start.data.config.input_schema));
  entries.push({ path: "input", detail: "output of the node that activated this one" });
  const direct = edges.filter((e) => e.target === nodeId).map((e) => byId.get(e.source));
  if (direct.length === 1 && direct[0]) entries.push(...schemaPaths("input", outputSchema(direct[0])));
  const upstream = [...ancestors(nodeId, edges)].map((id) => byId.get(id)).filter((n): n is AppNode => !!n);
  upstream.sort((a, b) => a.id.localeCompare(b.id));
  for (const n of upstream) {
    if (n.type === "note") continue;
    entries.push({ path: `nodes.${n.id}.output`, detail: `output of ${n.data.name}` });
    entries.push(...schemaPaths(`nodes.${n.id}.output`, outputSchema(n)));
  }
  for (const v of stateVariables(nodes)) entries.push({ path: `state.${v}`, detail: "state variable" });
  if (enclosingLoops(nodeId, nodes, edges).length) entries.push({ path: "loop.index", detail: "iteration (0-based)" });
  entries.push(
    { path: "run.id", detail: "run id" },
    { path: "run.started_at", detail: "timestamp" },
    { path: "trigger.type", detail: "api | webhook | test" },
    { path: "trigger.headers", detail: "webhook headers" },
    { path: "trigger.query", detail: "webhook query" },
  );
  return entries;
}
