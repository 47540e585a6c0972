/** MCP servers of the workspace (DESIGN §9): header values are secret references, never secret values. */
import { api } from "./client";
import type { JsonSchema } from "../nodes/common";
import type { components } from "./schema";

type Schemas = components["schemas"];

export type McpTool = Omit<Schemas["McpToolOut"], "input_schema"> & { input_schema: JsonSchema };

type SecretHeaders = Record<string, { secret: string }>;

export type McpServerInfo = Omit<Schemas["McpServerOut"], "headers" | "tools"> & {
  headers: SecretHeaders;
  tools: McpTool[] | null;
};

export type McpServerInput = Omit<Schemas["McpServerInRequest"], "headers"> & { headers?: SecretHeaders };

export const listMcpServers = () => api<McpServerInfo[]>("GET", "mcp-servers");
export const createMcpServer = (body: McpServerInput) => api<McpServerInfo>("POST", "mcp-servers", body);
export const updateMcpServer = (id: string, body: Partial<McpServerInput>) => api<McpServerInfo>("PATCH", `mcp-servers/${id}`, body);
export const deleteMcpServer = (id: string) => api<void>("DELETE", `mcp-servers/${id}`);
export const fetchMcpTools = (id: string) => api<McpTool[]>("POST", `mcp-servers/${id}/tools`, {});
