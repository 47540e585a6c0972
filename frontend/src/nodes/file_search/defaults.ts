import type { FileSearchConfig } from "./types";

export const fileSearchDefaults = (): FileSearchConfig => ({
  knowledge_base: "",
  query: "{{ workflow.input.message }}",
  top_k: 5,
  mode: "hybrid",
});
