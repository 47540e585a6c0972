import type { ExecConfig, TypedNode } from "../common";

export interface IfElseCase {
  port: string;
  label: string;
  condition: string;
}
export interface IfElseConfig extends ExecConfig {
  cases: IfElseCase[];
}
export type IfElseNode = TypedNode<"if_else", IfElseConfig>;
