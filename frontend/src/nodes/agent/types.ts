import type { ExecConfig, JsonSchema, TypedNode } from "../common";

export type AgentOutput = { type: "text" } | { type: "json_schema"; schema: JsonSchema };

export interface AgentConfig extends ExecConfig {
  model: string;
  provider?: string;
  instructions: string;
  messages?: unknown[];
  tools?: unknown[];
  output: AgentOutput;
  temperature?: number;
  max_output_tokens?: number;
  reasoning_effort?: string;
  max_turns?: number;
}
export type AgentNode = TypedNode<"agent", AgentConfig>;
