/** Node ids: readable (`agent_2`), valid for expressions, and renamed everywhere they are referenced. */
import type { AppNode } from "../nodes/types";
import { NODE_ID_PATTERN } from "./format";

export function nextNodeId(base: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  const clean = base.toLowerCase().replace(/[^a-z0-9_]/g, "_").replace(/^[^a-z]+/, "") || "node";
  if (!used.has(clean)) return clean;
  for (let i = 2; ; i++) {
    const candidate = `${clean}_${i}`;
    if (!used.has(candidate)) return candidate;
  }
}

export function isValidNodeId(id: string): boolean {
  return NODE_ID_PATTERN.test(id);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Rewrites `nodes.<from>` references in every string of a config tree. */
export function renameInValue<T>(value: T, from: string, to: string): T {
  const pattern = new RegExp(`\\bnodes\\.${escape(from)}\\b`, "g");
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return v.replace(pattern, `nodes.${to}`);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  return walk(value) as T;
}

export function renameNodeInConfigs(nodes: AppNode[], from: string, to: string): AppNode[] {
  return nodes.map((n) => {
    const config = renameInValue(n.data.config, from, to);
    const id = n.id === from ? to : n.id;
    if (id === n.id && JSON.stringify(config) === JSON.stringify(n.data.config)) return n;
    return { ...n, id, data: { ...n.data, config } } as AppNode;
  });
}
