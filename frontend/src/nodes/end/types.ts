import type { TypedNode } from "../common";

export interface EndConfig {
  /** A map of key → CEL expression, or a single expression. */
  output: Record<string, string> | string;
}
export type EndNode = TypedNode<"end", EndConfig>;
