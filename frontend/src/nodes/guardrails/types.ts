import type { ExecConfig, TypedNode } from "../common";

export interface GuardrailCheck {
  type: "pii" | "moderation" | "jailbreak" | "custom";
  [key: string]: unknown;
}
export interface GuardrailsConfig extends ExecConfig {
  text: string;
  checks: GuardrailCheck[];
}
export type GuardrailsNode = TypedNode<"guardrails", GuardrailsConfig>;
