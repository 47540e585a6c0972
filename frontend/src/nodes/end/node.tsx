import type { NodeProps } from "@xyflow/react";
import { memo } from "react";
import { clip, NodeCard } from "../NodeCard";
import type { EndNode } from "./types";

export const EndNodeView = memo(function EndNodeView({ id, type, data, selected }: NodeProps<EndNode>) {
  return <NodeCard node={{ id, type, data } as EndNode} selected={!!selected} summary={typeof data.config.output === "string" ? clip(data.config.output) : `Output: ${Object.keys(data.config.output ?? {}).join(", ") || "none"}`} />;
});
