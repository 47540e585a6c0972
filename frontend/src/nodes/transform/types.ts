import type { ExecConfig, TypedNode } from "../common";

export interface TransformConfig extends ExecConfig {
  /** key → CEL expression */
  output: Record<string, string>;
}
export type TransformNode = TypedNode<"transform", TransformConfig>;
