import type { NodeProps } from "@xyflow/react";
import { memo } from "react";
import { NodeCard } from "../NodeCard";
import type { StartNode } from "./types";

export const StartNodeView = memo(function StartNodeView({ id, type, data, selected }: NodeProps<StartNode>) {
  return <NodeCard node={{ id, type, data } as StartNode} selected={!!selected} summary={`Input: ${Object.keys(data.config.input_schema?.properties ?? {}).join(", ") || "none"}`} />;
});
