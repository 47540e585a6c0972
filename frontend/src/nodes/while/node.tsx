import type { NodeProps } from "@xyflow/react";
import { memo } from "react";
import { clip, NodeCard } from "../NodeCard";
import type { WhileNode } from "./types";

export const WhileNodeView = memo(function WhileNodeView({ id, type, data, selected }: NodeProps<WhileNode>) {
  return <NodeCard node={{ id, type, data } as WhileNode} selected={!!selected} summary={clip(data.config.condition)} />;
});
