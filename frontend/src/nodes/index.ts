/** The per-type maps the editor uses: canvas cards (`nodeTypes`) and inspector panels (`panelTypes`). */
import type { NodeTypes } from "@xyflow/react";
import type { ComponentType } from "react";
import type { NodeType } from "../graph/format";
import { AgentNodeView } from "./agent/node";
import { AgentPanel } from "./agent/panel";
import { EndNodeView } from "./end/node";
import { EndPanel } from "./end/panel";
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
import type { AppNode } from "./types";
import { UserApprovalNodeView } from "./user_approval/node";
import { UserApprovalPanel } from "./user_approval/panel";
import { WhileNodeView } from "./while/node";
import { WhilePanel } from "./while/panel";

export const nodeTypes = {
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
} satisfies Record<NodeType, unknown> as unknown as NodeTypes;

type PanelMap = { [T in NodeType]: ComponentType<PanelProps<Extract<AppNode, { type: T }>>> };

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
