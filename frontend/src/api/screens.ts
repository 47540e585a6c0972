/** Shapes the screens around the canvas read: run history, versions, triggers, team, usage, audit. They come from
 * the OpenAPI document (schema.d.ts), narrowed where a field is free-form JSON there; the version diff and the
 * audit entry are still written here (their views document little of their bodies). */
import type { Graph } from "../graph/format";
import type { RunStatus, StepData, Usage } from "./events";
import type { components, operations } from "./schema";

type Schemas = components["schemas"];

export interface RunTrigger {
  type?: string;
  trigger_id?: string;
  run_id?: string;
  from_step?: string;
  node_id?: string;
  [k: string]: unknown;
}

/** A run's error is ErrorOut; a step's is free-form JSON, usually the same shape. */
export type RunError = Partial<Schemas["ErrorOut"]> & { [k: string]: unknown };

/** A run as listed (GET /runs): `trigger` and `error` narrowed from the document's free-form JSON. */
export type RunSummary = Omit<Schemas["RunOut"], "status" | "trigger" | "error" | "steps" | "callback"> & {
  status: RunStatus;
  trigger: RunTrigger;
  error: RunError | null;
};

/** A step of the run detail; `error`, `wait` and `usage` are free-form JSON in the document. */
export type StepRecord = Omit<Schemas["StepOut"], "error" | "wait" | "usage"> & {
  error: RunError | string | null;
  wait: StepData["wait"];
  usage: (Usage & { model?: string | null }) | null;
};

/** Where a run's outbound callback stands (GET /api/v1/runs/<id>); the URL comes without its query. */
export type RunCallback = Schemas["CallbackOut"];

export type RunDetail = RunSummary & {
  steps: StepRecord[];
  callback?: RunCallback | null;
};

export type RunPage = Omit<Schemas["RunPageOut"], "results"> & { results: RunSummary[] };

/** GET /runs/<id>/graph: the graph the run executed. */
export type RunGraph = Omit<Schemas["RunGraphOut"], "graph"> & { graph: Graph };

/** The run list's filters (GET /runs), as the query string takes them; the page and its size are separate. */
export type RunFilters = Omit<NonNullable<operations["runs_list"]["parameters"]["query"]>, "cursor" | "limit">;

/** A version as listed; one version (GET …/versions/<n>) also has its graph. */
export type VersionInfo = Schemas["VersionOut"] & { graph?: Graph };

export type VersionDetail = Omit<Schemas["VersionDetailOut"], "graph"> & { graph: Graph };

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

/** A row of the usage report; `price_unknown` counts runs (per model, steps) whose cost is not known. */
export type UsageRow = Omit<Schemas["UsageRowOut"], "price_unknown"> & { price_unknown?: number };

/** The usage report: the server's (GET /usage), or the browser's own from the latest runs (`source: "runs"`,
 * pages/usage/aggregate.ts), which has no per-trigger rows. */
export type UsageReport = Omit<Schemas["UsageReportOut"], "source" | "per_day" | "per_workflow" | "per_model" | "per_trigger"> & {
  source: "server" | "runs";
  sampled_runs?: number;
  per_day: UsageRow[];
  per_workflow: UsageRow[];
  per_model: UsageRow[];
  per_trigger?: UsageRow[];
};

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
