/** MCP servers of the workspace (DESIGN §9): header values are secret references, never secret values. */
import { api } from "./client";
import type { JsonSchema } from "../nodes/common";

export interface McpTool {
  name: string;
  description: string;
  input_schema: JsonSchema;
}

export interface McpServerInfo {
  id: string;
  name: string;
  url: string;
  headers: Record<string, { secret: string }>;
  allowed_tools: string[] | null;
  tools: McpTool[] | null;
  tools_fetched_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface McpServerInput {
  name: string;
  url: string;
  headers?: Record<string, { secret: string }>;
  allowed_tools?: string[] | null;
}

export const listMcpServers = () => api<McpServerInfo[]>("GET", "mcp-servers");
export const createMcpServer = (body: McpServerInput) => api<McpServerInfo>("POST", "mcp-servers", body);
export const updateMcpServer = (id: string, body: Partial<McpServerInput>) => api<McpServerInfo>("PATCH", `mcp-servers/${id}`, body);
export const deleteMcpServer = (id: string) => api<void>("DELETE", `mcp-servers/${id}`);
export const fetchMcpTools = (id: string) => api<McpTool[]>("POST", `mcp-servers/${id}/tools`, {});
