import type { ExecConfig, TypedNode } from "../common";

export interface UserApprovalConfig extends ExecConfig {
  message: string;
  approvers?: string;
}
export type UserApprovalNode = TypedNode<"user_approval", UserApprovalConfig>;
