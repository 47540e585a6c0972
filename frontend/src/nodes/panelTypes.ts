/** What a node type's inspector panel receives. */
import type { JsonSchema } from "./common";
import type { AppNode } from "./types";

export interface PanelProps<N extends AppNode> {
  node: N;
  update: (patch: Partial<N["data"]["config"]>) => void;
  schema: JsonSchema | undefined;
}
