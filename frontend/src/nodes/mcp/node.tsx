import type { NodeProps } from "@xyflow/react";
import { memo } from "react";
import { clip, NodeCard } from "../NodeCard";
import type { McpNode } from "./types";

export const McpNodeView = memo(function McpNodeView({ id, type, data, selected }: NodeProps<McpNode>) {
  return <NodeCard node={{ id, type, data } as McpNode} selected={!!selected} summary={`${data.config.tool || "(no tool)"} @ ${clip(data.config.server || "(no server)", 28)}`} />;
});
