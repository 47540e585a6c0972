import type { NodeProps } from "@xyflow/react";
import { memo } from "react";
import { NodeCard } from "../NodeCard";
import type { GuardrailsNode } from "./types";

export const GuardrailsNodeView = memo(function GuardrailsNodeView({ id, type, data, selected }: NodeProps<GuardrailsNode>) {
  return <NodeCard node={{ id, type, data } as GuardrailsNode} selected={!!selected} summary={`Checks: ${(data.config.checks ?? []).map((c) => c.type).join(", ") || "none"}`} />;
});
