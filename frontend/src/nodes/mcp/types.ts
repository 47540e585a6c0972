import type { ExecConfig, TypedNode } from "../common";

export interface McpConfig extends ExecConfig {
  server_url: string;
  tool: string;
  arguments?: Record<string, string>;
  auth?: unknown;
}
export type McpNode = TypedNode<"mcp", McpConfig>;
