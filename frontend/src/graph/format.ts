/** The wire format `trellis.graph/1` (DESIGN §3), as the API sends and receives it. */

export const GRAPH_FORMAT = "trellis.graph/1";

export const NODE_TYPES = [
  "start",
  "agent",
  "end",
  "note",
  "http_request",
  "guardrails",
  "file_search",
  "mcp",
  "if_else",
  "while",
  "user_approval",
  "transform",
  "set_state",
] as const;

export type NodeType = (typeof NODE_TYPES)[number];

export type NodeGroup = "core" | "tools" | "logic" | "data";

export interface Position {
  x: number;
  y: number;
}

export interface GraphNode {
  id: string;
  type: NodeType;
  name: string;
  position?: Position;
  config: Record<string, unknown>;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  source_port?: string;
}

export interface Graph {
  format: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export const NODE_ID_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;

export function emptyGraph(): Graph {
  return { format: GRAPH_FORMAT, nodes: [], edges: [] };
}
