/** Chat deployments API (DESIGN §11): list, create, change (turn off), delete, and their conversations. */
import { api } from "./client";
import type { components } from "./schema";

type Schemas = components["schemas"];

export type ChatAccess = Schemas["AccessEnum"];

export type ChatDeployment = Schemas["DeploymentOut"];

/** What a create takes (PATCH takes the same fields, each optional); `kind` is added by createDeployment. */
export type ChatDeploymentInput = Schemas["DeploymentPatchRequest"];

export type ChatThreadInfo = Schemas["ThreadOut"];

export type ChatMessageInfo = Schemas["MessageOut"];

export type ChatConversation = Schemas["ConversationOut"];

const base = (workflowId: string) => `workflows/${workflowId}/deployments`;

export const listDeployments = (workflowId: string) => api<ChatDeployment[]>("GET", base(workflowId));
export const createDeployment = (workflowId: string, body: Omit<Schemas["DeploymentInRequest"], "kind">) =>
  api<ChatDeployment>("POST", base(workflowId), { kind: "chat", ...body });
export const updateDeployment = (workflowId: string, id: string, body: ChatDeploymentInput) =>
  api<ChatDeployment>("PATCH", `${base(workflowId)}/${id}`, body);
export const deleteDeployment = (workflowId: string, id: string) => api<void>("DELETE", `${base(workflowId)}/${id}`);
export const listConversations = (workflowId: string, id: string) =>
  api<ChatThreadInfo[]>("GET", `${base(workflowId)}/${id}/threads`);
export const getConversation = (workflowId: string, id: string, threadId: string) =>
  api<ChatConversation>("GET", `${base(workflowId)}/${id}/threads/${threadId}`);
