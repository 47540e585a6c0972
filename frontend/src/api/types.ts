/** Shapes of the REST resources the front end reads (DESIGN §7); fields beyond these are ignored. */
import type { Graph, NodeGroup, NodeType } from "../graph/format";
import type { JsonSchema } from "../nodes/common";
import type { RunStatus } from "./events";

export type Role = "viewer" | "editor" | "admin" | "owner";

export interface Workspace {
  id: string;
  name: string;
  slug: string;
  role?: Role;
}

export interface Me {
  id: number | string;
  email: string;
  name?: string;
  workspaces?: Workspace[];
}

export interface Member {
  id?: number | string;
  user_id?: number | string;
  email: string;
  name?: string;
  role: Role;
}

export interface ApiToken {
  id: number | string;
  name: string;
  prefix?: string;
  created_at?: string;
  last_used_at?: string | null;
  token?: string;
}

export interface SecretInfo {
  id: string;
  name: string;
  created_at?: string;
  updated_at?: string;
}

/** The workspace's callback signing secret: metadata only, except right after a rotation. */
export interface CallbackSecretInfo {
  exists: boolean;
  created_at: string | null;
  rotated_at: string | null;
  previous_secret_expires_at: string | null;
  secret?: string;
}

export interface WorkflowSummary {
  id: string;
  name: string;
  description?: string;
  created_at?: string;
  updated_at?: string;
  published_version?: number | null;
  latest_version?: number | null;
  /** The MCP tool name (POST /mcp) once set or first exposed. */
  slug?: string;
  /** "Expose as MCP tool": the published version is a tool of the workspace's MCP server. */
  expose_as_tool?: boolean;
}

export interface Draft {
  graph: Graph;
  revision: number;
  updated_at?: string;
}

export interface ValidationIssue {
  severity: "error" | "warning";
  node_id: string | null;
  field: string | null;
  message: string;
  code?: string;
}

export interface NodeTypeInfo {
  type: NodeType;
  group: NodeGroup;
  label: string;
  description: string;
  /** One glyph. */
  icon: string;
  docs_url: string | null;
  config_schema: JsonSchema;
  defaults: Record<string, unknown>;
  /** Static output ports; `dynamic_ports` come first when the type has them. */
  ports: string[];
  dynamic_ports: { list_field: string; id_key: string; label_key: string } | null;
  output: { schema: JsonSchema | null; schema_from: string | null; keys_from: string | null };
  executable: boolean;
  inline: boolean;
  available: boolean;
  unavailable_reason: string | null;
}

export interface Template {
  id: string;
  slug?: string;
  name: string;
  description?: string;
  graph?: Graph;
}

export interface RunStep {
  id: string;
  node_id: string;
  status: string;
  input?: unknown;
  output?: unknown;
  error?: unknown;
}

export interface Run {
  id: string;
  status: RunStatus;
  steps?: RunStep[];
  workflow?: string;
  version?: number | string | null;
  output?: unknown;
  error?: unknown;
  created_at?: string;
}

export interface WorkflowVersion {
  number: number;
  note?: string;
  created_at?: string;
}
