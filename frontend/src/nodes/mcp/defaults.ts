import type { McpConfig } from "./types";

export const mcpDefaults = (): McpConfig => ({ server: "", tool: "", arguments: {} });
