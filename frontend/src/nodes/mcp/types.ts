import type { ExecConfig, TypedNode } from "../common";

export interface McpConfig extends ExecConfig {
  /** Name of a workspace MCP server (Settings → MCP servers). */
  server: string;
  tool: string;
  /** Argument name → CEL expression. */
  arguments?: Record<string, string>;
}
export type McpNode = TypedNode<"mcp", McpConfig>;
