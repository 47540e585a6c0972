/** The card and inspector panel of a node type without a folder of its own: built from its catalog entry. */
import type { Node, NodeProps } from "@xyflow/react";
import { memo } from "react";
import { SchemaFields } from "../fields/SchemaFields";
import { NodeCard } from "./NodeCard";
import type { NodeData } from "./common";
import { nodeTypeInfo } from "./registry";
import type { AppNode } from "./types";

type AnyNode = Node<NodeData<Record<string, unknown>>, string>;

/** Error handling has its own section in the inspector. */
const EXEC_FIELDS = ["on_error", "retry", "timeout_s"] as const;

export const GenericNodeView = memo(function GenericNodeView({ id, type, data, selected }: NodeProps<AnyNode>) {
  const summary = nodeTypeInfo(type)?.description ?? "";
  return <NodeCard node={{ id, type, data } as unknown as AppNode} selected={!!selected} summary={summary} />;
});

export function GenericPanel({
  node,
  update,
}: {
  node: { id: string; type: string; data: NodeData<Record<string, unknown>> };
  update: (patch: Record<string, unknown>) => void;
}) {
  const schema = nodeTypeInfo(node.type)?.config_schema;
  return <SchemaFields nodeId={node.id} schema={schema} config={node.data.config} omit={EXEC_FIELDS} onChange={update} />;
}
