import type { NodeProps } from "@xyflow/react";
import { memo } from "react";
import { NodeCard } from "../NodeCard";
import type { IfElseNode } from "./types";

export const IfElseNodeView = memo(function IfElseNodeView({ id, type, data, selected }: NodeProps<IfElseNode>) {
  return <NodeCard node={{ id, type, data } as IfElseNode} selected={!!selected} summary={`${(data.config.cases ?? []).length} case(s) + else`} />;
});
