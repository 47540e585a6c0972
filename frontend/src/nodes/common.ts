/** Shapes shared by every node type: the data a canvas node carries and the error-handling config. */
import type { Node } from "@xyflow/react";
import type { NodeType } from "../graph/format";

export type OnError = "fail" | "continue" | "route";

export interface ExecConfig {
  on_error?: OnError;
  retry?: { max_attempts?: number; backoff_s?: number };
  timeout_s?: number;
}

export interface NodeData<C> extends Record<string, unknown> {
  name: string;
  config: C;
}

export type TypedNode<T extends NodeType, C> = Node<NodeData<C>, T>;

/** A JSON Schema subset good enough for forms and scope. */
export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  default?: unknown;
  format?: string;
  minimum?: number;
  maximum?: number;
  additionalProperties?: boolean | JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  const?: unknown;
  [key: string]: unknown;
}
