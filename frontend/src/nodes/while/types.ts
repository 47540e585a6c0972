import type { ExecConfig, TypedNode } from "../common";

export interface WhileConfig extends ExecConfig {
  condition: string;
  max_iterations: number;
}
export type WhileNode = TypedNode<"while", WhileConfig>;
