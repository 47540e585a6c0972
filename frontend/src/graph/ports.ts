/** Which ports a node has, derived from its type's catalog entry and its config (DESIGN §3). */
import type { AppNode } from "../nodes/types";
import { nodeTypeInfo } from "../nodes/registry";

export interface Port {
  id: string;
  label: string;
  kind: "out" | "branch" | "error";
}

const ERROR_PORT = "error";
const DEFAULT_PORT = "out";
const capitalize = (s: string) => s.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());

export function outputPorts(node: Pick<AppNode, "type" | "data">): Port[] {
  const info = nodeTypeInfo(node.type);
  if (!info) return [];
  const config = (node.data.config ?? {}) as unknown as Record<string, unknown>;
  const ports: Port[] = [];
  const rule = info.dynamic_ports;
  const items = rule ? config[rule.list_field] : undefined;
  if (rule && Array.isArray(items)) {
    for (const item of items as Record<string, unknown>[]) {
      const id = item?.[rule.id_key];
      if (typeof id === "string" && !ports.some((p) => p.id === id)) {
        const label = item[rule.label_key];
        ports.push({ id, label: typeof label === "string" && label ? label : id, kind: "branch" });
      }
    }
  }
  for (const id of info.ports) {
    if (ports.some((p) => p.id === id)) continue;
    ports.push(id === DEFAULT_PORT ? { id, label: "", kind: "out" } : { id, label: capitalize(id), kind: "branch" });
  }
  if (info.executable && config.on_error === "route" && !ports.some((p) => p.id === ERROR_PORT)) {
    ports.push({ id: ERROR_PORT, label: "Error", kind: "error" });
  }
  return ports;
}

/** Every executable node has an input, except Start, where a run begins. */
export function hasInputPort(node: Pick<AppNode, "type">): boolean {
  return node.type !== "start" && !!nodeTypeInfo(node.type)?.executable;
}

/** Whether a node takes the error-handling config (on_error, retry, timeout): not Start, not one without ports. */
export function handlesErrors(node: Pick<AppNode, "type" | "data">): boolean {
  return hasInputPort(node) && outputPorts(node).length > 0;
}
