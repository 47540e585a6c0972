/** Static facts about each node type that the canvas needs before (or without) the API catalog. */
import type { NodeGroup, NodeType } from "../graph/format";
import { agentDefaults } from "./agent/defaults";
import { endDefaults } from "./end/defaults";
import { fileSearchDefaults } from "./file_search/defaults";
import { guardrailsDefaults } from "./guardrails/defaults";
import { httpRequestDefaults } from "./http_request/defaults";
import { ifElseDefaults } from "./if_else/defaults";
import { mcpDefaults } from "./mcp/defaults";
import { noteDefaults } from "./note/defaults";
import { setStateDefaults } from "./set_state/defaults";
import { startDefaults } from "./start/defaults";
import { transformDefaults } from "./transform/defaults";
import { userApprovalDefaults } from "./user_approval/defaults";
import { whileDefaults } from "./while/defaults";

export interface NodeMeta {
  label: string;
  group: NodeGroup;
  icon: string;
  description: string;
  defaults: () => object;
}

export const NODE_META: Record<NodeType, NodeMeta> = {
  start: { label: "Start", group: "core", icon: "▶", description: "Run input and state", defaults: startDefaults },
  agent: { label: "Agent", group: "core", icon: "✦", description: "One LLM call with tools", defaults: agentDefaults },
  end: { label: "End", group: "core", icon: "■", description: "Produce the run output", defaults: endDefaults },
  note: { label: "Note", group: "core", icon: "✎", description: "Comment on the canvas", defaults: noteDefaults },
  http_request: { label: "HTTP request", group: "tools", icon: "⇄", description: "Call an HTTP API", defaults: httpRequestDefaults },
  guardrails: { label: "Guardrails", group: "tools", icon: "◈", description: "Pass/fail checks on text", defaults: guardrailsDefaults },
  file_search: { label: "File search", group: "tools", icon: "⌕", description: "Search a knowledge base", defaults: fileSearchDefaults },
  mcp: { label: "MCP", group: "tools", icon: "⚙", description: "Call a tool on an MCP server", defaults: mcpDefaults },
  if_else: { label: "If / else", group: "logic", icon: "⇉", description: "Branch on conditions", defaults: ifElseDefaults },
  while: { label: "While", group: "logic", icon: "↻", description: "Loop while a condition holds", defaults: whileDefaults },
  user_approval: { label: "User approval", group: "logic", icon: "✔", description: "Pause until approved", defaults: userApprovalDefaults },
  transform: { label: "Transform", group: "data", icon: "ƒ", description: "Build a new object", defaults: transformDefaults },
  set_state: { label: "Set state", group: "data", icon: "≔", description: "Assign state variables", defaults: setStateDefaults },
};

export const GROUPS: { id: NodeGroup; label: string }[] = [
  { id: "core", label: "Core" },
  { id: "tools", label: "Tools" },
  { id: "logic", label: "Logic" },
  { id: "data", label: "Data" },
];

/** Types that take no error-handling config (they never fail at run time). */
export const NON_EXECUTABLE: ReadonlySet<NodeType> = new Set(["start", "end", "note"]);
