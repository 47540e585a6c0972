import type { JsonSchema, TypedNode } from "../common";

export interface StartConfig {
  input_schema: JsonSchema;
  state?: Record<string, unknown>;
}
export type StartNode = TypedNode<"start", StartConfig>;
