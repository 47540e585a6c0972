/** The discriminated union of every canvas node, keyed by `type`. */
import type { Edge } from "@xyflow/react";
import type { AgentNode } from "./agent/types";
import type { EndNode } from "./end/types";
import type { FileSearchNode } from "./file_search/types";
import type { GuardrailsNode } from "./guardrails/types";
import type { HttpRequestNode } from "./http_request/types";
import type { IfElseNode } from "./if_else/types";
import type { McpNode } from "./mcp/types";
import type { NoteNode } from "./note/types";
import type { SetStateNode } from "./set_state/types";
import type { StartNode } from "./start/types";
import type { TransformNode } from "./transform/types";
import type { UserApprovalNode } from "./user_approval/types";
import type { WhileNode } from "./while/types";

export type AppNode =
  | StartNode
  | AgentNode
  | EndNode
  | NoteNode
  | HttpRequestNode
  | GuardrailsNode
  | FileSearchNode
  | McpNode
  | IfElseNode
  | WhileNode
  | UserApprovalNode
  | TransformNode
  | SetStateNode;

export type AppEdge = Edge;

export type ConfigOf<T extends AppNode["type"]> = Extract<AppNode, { type: T }>["data"]["config"];
