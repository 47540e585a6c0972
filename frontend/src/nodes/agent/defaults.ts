import type { AgentConfig } from "./types";

export const agentDefaults = (): AgentConfig => ({
  model: "gpt-4.1-mini",
  instructions: "You are a helpful assistant. Answer: {{ workflow.input.message }}",
  output: { type: "text" },
});
