import type { NodeProps } from "@xyflow/react";
import { memo } from "react";
import { NodeCard } from "../NodeCard";
import type { TransformNode } from "./types";

export const TransformNodeView = memo(function TransformNodeView({ id, type, data, selected }: NodeProps<TransformNode>) {
  return <NodeCard node={{ id, type, data } as TransformNode} selected={!!selected} summary={`→ ${Object.keys(data.config.output ?? {}).join(", ") || "(empty)"}`} />;
});
