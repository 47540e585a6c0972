import type { GuardrailsConfig } from "./types";

export const guardrailsDefaults = (): GuardrailsConfig => ({
  text: "workflow.input.message",
  checks: [{ type: "pii", mode: "detect" }],
});
