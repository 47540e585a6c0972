import type { ExecConfig, TypedNode } from "../common";

export interface FileSearchConfig extends ExecConfig {
  knowledge_base: string;
  query: string;
  top_k?: number;
  mode?: "hybrid" | "keyword" | "vector";
  filters?: { file_id?: string[]; tags?: string[] };
}
export type FileSearchNode = TypedNode<"file_search", FileSearchConfig>;
