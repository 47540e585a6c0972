/** The node catalog from the API (config schemas); the editor works without it, using local defaults. */
import { useQuery } from "@tanstack/react-query";
import { listNodeTypes } from "../api/workflows";
import type { NodeTypeInfo } from "../api/types";
import type { NodeType } from "../graph/format";

export function useNodeTypeCatalog(): Partial<Record<NodeType, NodeTypeInfo>> {
  const q = useQuery({ queryKey: ["node-types"], queryFn: listNodeTypes, staleTime: Infinity, retry: 0 });
  const map: Partial<Record<NodeType, NodeTypeInfo>> = {};
  for (const t of q.data ?? []) map[t.type] = t;
  return map;
}
