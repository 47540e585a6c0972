import type { NodeProps } from "@xyflow/react";
import { memo } from "react";
import { clip, NodeCard } from "../NodeCard";
import type { UserApprovalNode } from "./types";

export const UserApprovalNodeView = memo(function UserApprovalNodeView({ id, type, data, selected }: NodeProps<UserApprovalNode>) {
  return <NodeCard node={{ id, type, data } as UserApprovalNode} selected={!!selected} summary={clip(data.config.message)} />;
});
