/**
 * The node catalog as the server serves it (GET /api/v1/node-types): labels, icons, groups, defaults, ports
 * and output shapes of every node type. `NodeTypesGate` loads it once before any canvas renders; the pure
 * graph helpers (ports, scope, new nodes) read it from here.
 */
import type { NodeTypeInfo } from "../api/types";
import type { JsonSchema } from "./common";

let byType = new Map<string, NodeTypeInfo>();

export function setNodeTypes(items: NodeTypeInfo[]): void {
  byType = new Map(items.map((t) => [t.type, t]));
}

export function nodeTypeList(): NodeTypeInfo[] {
  return [...byType.values()];
}

export function nodeTypeInfo(type: string): NodeTypeInfo | undefined {
  return byType.get(type);
}

/** The label a type shows (its id while the catalog does not know it, e.g. a type removed on the server). */
export function nodeLabel(type: string): string {
  return byType.get(type)?.label ?? type;
}

export function defaultConfig(type: string): Record<string, unknown> {
  return structuredClone(byType.get(type)?.defaults ?? {});
}

/** The value at a JSON Pointer (`/output/schema`) inside `value`. */
export function atPointer(value: unknown, pointer: string): unknown {
  let cur = value;
  for (const part of pointer.split("/").slice(1)) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[part.replace(/~1/g, "/").replace(/~0/g, "~")];
  }
  return cur;
}

/** The fields a node's output is known to have, as a JSON Schema, from its type's `output` and its config. */
export function outputSchemaOf(type: string, config: Record<string, unknown>): JsonSchema | undefined {
  const out = byType.get(type)?.output;
  if (!out) return undefined;
  if (out.schema_from) {
    const found = atPointer(config, out.schema_from);
    if (found && typeof found === "object" && !Array.isArray(found)) return found as JsonSchema;
  }
  if (out.keys_from) {
    const map = atPointer(config, out.keys_from);
    if (map && typeof map === "object" && !Array.isArray(map)) {
      return { type: "object", properties: Object.fromEntries(Object.keys(map).map((k) => [k, {}])) };
    }
    return undefined;
  }
  return (out.schema as JsonSchema | null) ?? undefined;
}
