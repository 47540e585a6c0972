import type { McpConfig } from "./types";

export const mcpDefaults = (): McpConfig => ({ server_url: "", tool: "", arguments: {} });
