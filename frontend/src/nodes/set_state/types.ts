import type { ExecConfig, TypedNode } from "../common";

export interface Assignment {
  variable: string;
  expression: string;
}
export interface SetStateConfig extends ExecConfig {
  assignments: Assignment[];
}
export type SetStateNode = TypedNode<"set_state", SetStateConfig>;
