/** Shapes the screens around the canvas read: run history, versions, triggers, team, usage, audit. */
import type { Graph } from "../graph/format";
import type { RunStatus, StepData, Usage } from "./events";
import type { components } from "./schema";

type Schemas = components["schemas"];

export interface RunTrigger {
  type?: string;
  trigger_id?: string;
  run_id?: string;
  from_step?: string;
  node_id?: string;
  [k: string]: unknown;
}

export interface RunError {
  code?: string;
  message?: string;
  node_id?: string;
  [k: string]: unknown;
}

export interface RunSummary {
  id: string;
  workflow: string;
  version: number | null;
  is_draft: boolean;
  status: RunStatus;
  input?: unknown;
  output?: unknown;
  error?: RunError | string | null;
  trigger: RunTrigger;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** price_unknown: some call had no known price, so cost_usd counts only the priced ones. */
  usage: { input_tokens: number; output_tokens: number; cost_usd: number; price_unknown?: boolean };
  last_seq: number;
}

export interface StepRecord {
  id: string;
  node_id: string;
  node_type: string;
  attempt: number;
  iteration: number;
  status: "running" | "succeeded" | "failed" | "skipped" | "waiting" | "cancelled";
  input: unknown;
  output: unknown;
  error: RunError | string | null;
  port: string | null;
  wait: StepData["wait"];
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  usage: (Usage & { model?: string | null }) | null;
}

/** Where a run's outbound callback stands (GET /api/v1/runs/<id>); the URL comes without its query. */
export interface RunCallback {
  url: string | null;
  source: "run" | "trigger";
  state: "pending" | "delivered" | "failed";
  attempts: number;
  max_attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  updated_at: string | null;
}

export interface RunDetail extends RunSummary {
  steps: StepRecord[];
  graph?: Graph;
  callback?: RunCallback | null;
}

export interface RunPage {
  results: RunSummary[];
  next_cursor: string | null;
}

export interface RunFilters {
  workflow?: string;
  status?: string;
  version?: string;
  trigger?: string;
  since?: string;
  until?: string;
  /** up | down | any | none: runs with that feedback on their output (evals/). */
  feedback?: string;
}

export interface VersionInfo {
  number: number;
  note: string;
  checksum?: string;
  created_by: string | null;
  created_at: string;
  published: boolean;
  graph?: Graph;
}

export interface FieldChange {
  field: string;
  from: unknown;
  to: unknown;
}

export interface GraphDiff {
  from: number | "draft";
  to: number | "draft";
  nodes: { added: string[]; removed: string[]; changed: { id: string; changes: FieldChange[] }[] };
  edges: {
    added: { source: string; source_port: string; target: string }[];
    removed: { source: string; source_port: string; target: string }[];
  };
}

export type AuthMode = "signature" | "bearer" | "none";

/** A trigger; `secret` only in the answer that created or rotated it. */
export type TriggerInfo = Omit<Schemas["TriggerOut"], "auth_mode"> & { auth_mode: AuthMode; secret?: string };

export type DeliveryInfo = Schemas["DeliveryOut"];

export type InvitationInfo = Schemas["InvitationOut"] & { link?: string };

export type ProviderInfo = Omit<Schemas["ProviderOut"], "models"> & { models: string[] };

export type ProviderTestResult = Schemas["ProviderTestOut"];

export interface UsageRow {
  key: string;
  label?: string;
  runs: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  /** Runs (or steps, per model) whose cost is not known: shown as "price unknown", never $0. */
  price_unknown?: number;
}

export interface UsageReport {
  days: number;
  /** Where the figures come from: the server's usage endpoint, or the latest runs read by the browser. */
  source: "server" | "runs";
  sampled_runs?: number;
  per_day: UsageRow[];
  per_workflow: UsageRow[];
  per_model: UsageRow[];
  /** Cost per trigger type (api, webhook, schedule, manual, …); servers before budgets leave it out. */
  per_trigger?: UsageRow[];
  /** day → status → count */
  status_by_day: { day: string; counts: Record<string, number> }[];
}

export interface AuditEntry {
  id?: number;
  action: string;
  actor: string | null;
  target_type?: string;
  target_id?: string;
  target_name?: string;
  data: Record<string, unknown>;
  created_at: string;
}
