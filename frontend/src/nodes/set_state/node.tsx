import type { NodeProps } from "@xyflow/react";
import { memo } from "react";
import { NodeCard } from "../NodeCard";
import type { SetStateNode } from "./types";

export const SetStateNodeView = memo(function SetStateNodeView({ id, type, data, selected }: NodeProps<SetStateNode>) {
  return <NodeCard node={{ id, type, data } as SetStateNode} selected={!!selected} summary={(data.config.assignments ?? []).map((a) => `state.${a.variable}`).join(", ") || "(no assignments)"} />;
});
