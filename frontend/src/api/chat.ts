/** Chat deployments API (DESIGN §11): list, create, change (turn off), delete, and their conversations. */
import { api } from "./client";

export type ChatAccess = "public" | "members";

export interface ChatDeployment {
  id: string;
  workflow_id: string;
  public_id: string;
  kind: "chat";
  url: string;
  embed_snippet: string;
  access: ChatAccess;
  allowed_origins: string[];
  title: string;
  greeting: string;
  starter_prompts: string[];
  theme: { color?: string };
  enabled: boolean;
  visitor_rate_limit_per_minute: number;
  rate_limit_per_minute: number;
  max_message_chars: number;
  max_messages_per_thread: number | null;
  max_tokens_per_thread: number | null;
  created_at: string;
}

export type ChatDeploymentInput = Partial<Omit<ChatDeployment, "id" | "workflow_id" | "public_id" | "url" | "embed_snippet" | "created_at">> & {
  title?: string;
};

export interface ChatThreadInfo {
  id: string;
  title: string;
  message_count: number;
  tokens_used: number;
  visitor_id: string;
  created_at: string;
  updated_at: string;
}

export interface ChatMessageInfo {
  id: string;
  role: "user" | "assistant";
  content: string;
  status: "done" | "pending" | "waiting" | "failed";
  run_id: string | null;
  created_at: string;
}

const base = (workflowId: string) => `workflows/${workflowId}/deployments`;

export const listDeployments = (workflowId: string) => api<ChatDeployment[]>("GET", base(workflowId));
export const createDeployment = (workflowId: string, body: ChatDeploymentInput & { title: string }) =>
  api<ChatDeployment>("POST", base(workflowId), { kind: "chat", ...body });
export const updateDeployment = (workflowId: string, id: string, body: ChatDeploymentInput) =>
  api<ChatDeployment>("PATCH", `${base(workflowId)}/${id}`, body);
export const deleteDeployment = (workflowId: string, id: string) => api<void>("DELETE", `${base(workflowId)}/${id}`);
export const listConversations = (workflowId: string, id: string) =>
  api<ChatThreadInfo[]>("GET", `${base(workflowId)}/${id}/threads`);
export const getConversation = (workflowId: string, id: string, threadId: string) =>
  api<ChatThreadInfo & { messages: ChatMessageInfo[] }>("GET", `${base(workflowId)}/${id}/threads/${threadId}`);
