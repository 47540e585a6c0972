/** Versions API: history, one version's graph, diff, restore into the draft, make one the published. */
import { api } from "./client";
import type { GraphDiff, VersionInfo } from "./screens";
import type { WorkflowSummary } from "./types";

export const listVersions = (workflowId: string) => api<VersionInfo[]>("GET", `workflows/${workflowId}/versions`);
export const getVersion = (workflowId: string, n: number) => api<VersionInfo>("GET", `workflows/${workflowId}/versions/${n}`);
export const diffVersions = (workflowId: string, a: number | "draft", b: number | "draft") =>
  api<GraphDiff>("GET", `workflows/${workflowId}/versions/${a}/diff/${b}`);
export const restoreVersion = (workflowId: string, n: number) =>
  api<{ revision: number }>("POST", `workflows/${workflowId}/versions/${n}/restore`, {});
export const makePublished = (workflowId: string, n: number) =>
  api<WorkflowSummary>("POST", `workflows/${workflowId}/versions/${n}/publish`, {});
