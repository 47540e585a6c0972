import type { NodeProps } from "@xyflow/react";
import { memo } from "react";
import { clip, NodeCard } from "../NodeCard";
import type { AgentNode } from "./types";

export const AgentNodeView = memo(function AgentNodeView({ id, type, data, selected }: NodeProps<AgentNode>) {
  return <NodeCard node={{ id, type, data } as AgentNode} selected={!!selected} summary={`${data.config.model} · ${clip(data.config.instructions, 36)}`} />;
});
