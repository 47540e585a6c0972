import type { TypedNode } from "../common";

export interface NoteConfig {
  text: string;
}
export type NoteNode = TypedNode<"note", NoteConfig>;
