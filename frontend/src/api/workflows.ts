/** Builder API: workflows, draft, validation, publish, node types, templates. */
import type { Graph } from "../graph/format";
import { api, unwrapList } from "./client";
import type { Draft, NodeTypeInfo, Template, ValidationIssue, WorkflowSummary, WorkflowVersion } from "./types";

export const listWorkflows = async () =>
  unwrapList(await api<WorkflowSummary[] | { results: WorkflowSummary[] }>("GET", "workflows"));
export const getWorkflow = (id: string) => api<WorkflowSummary>("GET", `workflows/${id}`);
export const createWorkflow = (body: { name: string; graph?: Graph; template?: string }) =>
  api<WorkflowSummary>("POST", "workflows", body);
export const setWorkflowMcpTool = (id: string, body: { expose_as_tool?: boolean; slug?: string }) =>
  api<WorkflowSummary>("PATCH", `workflows/${id}`, body);
export const renameWorkflow = (id: string, name: string) => api<WorkflowSummary>("PATCH", `workflows/${id}`, { name });
export const archiveWorkflow = (id: string) => api<void>("DELETE", `workflows/${id}`);

export const getDraft = (id: string) => api<Draft>("GET", `workflows/${id}/draft`);
export const putDraft = (id: string, graph: Graph, revision: number | null) =>
  api<Draft>("PUT", `workflows/${id}/draft`, { graph, revision });

export const validateWorkflow = async (id: string) => {
  const data = await api<ValidationIssue[] | { issues: ValidationIssue[] }>("POST", `workflows/${id}/validate`, {});
  return Array.isArray(data) ? data : (data?.issues ?? []);
};
export const publishWorkflow = (id: string, note: string) => api<WorkflowVersion>("POST", `workflows/${id}/publish`, { note });

export const listNodeTypes = async () =>
  unwrapList(await api<NodeTypeInfo[] | { results: NodeTypeInfo[] }>("GET", "node-types"));
export const listTemplates = async () => unwrapList(await api<Template[] | { results: Template[] }>("GET", "templates"));
