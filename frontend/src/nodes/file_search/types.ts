import type { ExecConfig, TypedNode } from "../common";

export interface FileSearchConfig extends ExecConfig {
  knowledge_base: string;
  query: string;
  top_k?: number;
}
export type FileSearchNode = TypedNode<"file_search", FileSearchConfig>;
