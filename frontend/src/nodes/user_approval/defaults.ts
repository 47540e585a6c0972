import type { UserApprovalConfig } from "./types";

export const userApprovalDefaults = (): UserApprovalConfig => ({
  message: "Please review: {{ input }}",
  approvers: "editor",
});
