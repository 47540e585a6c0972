/**
 * The per-type maps the editor uses: canvas cards (`canvasNodeTypes()`) and inspector panels (`panelTypes`).
 * Only types with a folder of their own are listed; every other catalog type gets the generic card and panel.
 */
import type { NodeTypes } from "@xyflow/react";
import type { ComponentType } from "react";
import type { NodeType } from "../graph/format";
import { AgentNodeView } from "./agent/node";
import { AgentPanel } from "./agent/panel";
import { EndNodeView } from "./end/node";
import { EndPanel } from "./end/panel";
import { GenericNodeView, GenericPanel } from "./GenericNode";
import { FileSearchNodeView } from "./file_search/node";
import { FileSearchPanel } from "./file_search/panel";
import { GuardrailsNodeView } from "./guardrails/node";
import { GuardrailsPanel } from "./guardrails/panel";
import { HttpRequestNodeView } from "./http_request/node";
import { HttpRequestPanel } from "./http_request/panel";
import { IfElseNodeView } from "./if_else/node";
import { IfElsePanel } from "./if_else/panel";
import { McpNodeView } from "./mcp/node";
import { McpPanel } from "./mcp/panel";
import { NoteNodeView } from "./note/node";
import { NotePanel } from "./note/panel";
import type { PanelProps } from "./panelTypes";
import { SetStateNodeView } from "./set_state/node";
import { SetStatePanel } from "./set_state/panel";
import { StartNodeView } from "./start/node";
import { StartPanel } from "./start/panel";
import { TransformNodeView } from "./transform/node";
import { TransformPanel } from "./transform/panel";
import { nodeTypeList } from "./registry";
import type { AppNode } from "./types";
import { UserApprovalNodeView } from "./user_approval/node";
import { UserApprovalPanel } from "./user_approval/panel";
import { WhileNodeView } from "./while/node";
import { WhilePanel } from "./while/panel";

const customNodeTypes = {
  start: StartNodeView,
  agent: AgentNodeView,
  end: EndNodeView,
  note: NoteNodeView,
  http_request: HttpRequestNodeView,
  guardrails: GuardrailsNodeView,
  file_search: FileSearchNodeView,
  mcp: McpNodeView,
  if_else: IfElseNodeView,
  while: WhileNodeView,
  user_approval: UserApprovalNodeView,
  transform: TransformNodeView,
  set_state: SetStateNodeView,
} satisfies Record<NodeType, unknown>;

let cached: NodeTypes | undefined;

/** React Flow's node types: the custom cards, and the generic one for the rest of the catalog. Built once the
 * catalog is loaded (NodeTypesGate) and kept, since React Flow wants the same object on every render. */
export function canvasNodeTypes(): NodeTypes {
  if (!cached || nodeTypeList().some((t) => !(t.type in cached!))) {
    const generic = Object.fromEntries(nodeTypeList().map((t) => [t.type, GenericNodeView]));
    cached = { ...generic, ...customNodeTypes } as unknown as NodeTypes;
  }
  return cached;
}

type PanelMap = { [T in NodeType]?: ComponentType<PanelProps<Extract<AppNode, { type: T }>>> };

export const panelTypes: PanelMap = {
  start: StartPanel,
  agent: AgentPanel,
  end: EndPanel,
  note: NotePanel,
  http_request: HttpRequestPanel,
  guardrails: GuardrailsPanel,
  file_search: FileSearchPanel,
  mcp: McpPanel,
  if_else: IfElsePanel,
  while: WhilePanel,
  user_approval: UserApprovalPanel,
  transform: TransformPanel,
  set_state: SetStatePanel,
};

export { GenericPanel };
