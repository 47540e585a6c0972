/** Evals API (DESIGN §10): feedback, datasets and items, evals and their comparison, the publish gate. */
import { api, csrfToken, currentWorkspace } from "./client";

export type Grader = { type: string; name: string; [key: string]: unknown };

export interface FeedbackInfo {
  id: string;
  run_id: string;
  step_id: string | null;
  score: 1 | -1;
  comment: string;
  source: "user" | "approval";
  by: string | null;
  created_at: string | null;
}

export interface DatasetInfo {
  id: string;
  workflow: string;
  name: string;
  description: string;
  graders: Grader[];
  items: number;
  created_at: string;
  updated_at: string;
}

export interface DatasetItem {
  id: string;
  input: Record<string, unknown>;
  expected: unknown;
  tags: string[];
  source_run: string | null;
  revision: number;
}

export interface EvalSummary {
  items: number;
  passed: number;
  failed: number;
  errored: number;
  /** Items an eval cancellation stopped before they finished. */
  cancelled?: number;
  pass_rate: number;
  mean_scores: Record<string, number>;
  cost_usd: number;
  p50_ms: number | null;
}

export interface EvalItemResult {
  position: number;
  item_id: string | null;
  input: Record<string, unknown>;
  expected: unknown;
  run_id: string | null;
  status: string;
  run_status: string | null;
  output: unknown;
  error: unknown;
  scores: Record<string, { score: number; passed: boolean; error?: string }>;
  passed: boolean | null;
  cost_usd: number;
  latency_ms: number | null;
}

export interface EvalInfo {
  id: string;
  dataset: string;
  dataset_name: string;
  version: number | null;
  is_draft: boolean;
  status: "running" | "succeeded" | "failed" | "cancelled";
  purpose: string;
  summary: EvalSummary | null;
  created_at: string;
  progress?: { done: number; items: number };
  items?: EvalItemResult[];
}

export interface CompareSide {
  passed: boolean | null;
  scores: Record<string, number>;
  output: unknown;
  cost_usd: number;
  latency_ms: number | null;
  run_id: string | null;
}

export interface EvalComparison {
  a: EvalInfo;
  b: EvalInfo;
  regressions: number;
  improvements: number;
  delta: { pass_rate: number; cost_usd: number; p50_ms: number | null };
  items: { item_id: string | null; input: unknown; expected: unknown; a: CompareSide | null; b: CompareSide | null; change: string }[];
}

export interface PublishGate {
  dataset: string;
  dataset_name: string;
  min_pass_rate: number;
}

export interface GateFailure {
  eval_id: string;
  position: number;
  input: unknown;
  expected: unknown;
  output: unknown;
  scores: Record<string, { score: number; passed: boolean }>;
}

const w = (id: string) => `workflows/${id}`;

export const listFeedback = (runId: string) => api<FeedbackInfo[]>("GET", `runs/${runId}/feedback`);
export const giveFeedback = (runId: string, body: { score: 1 | -1; comment?: string; step_id?: string }) =>
  api<FeedbackInfo>("POST", `runs/${runId}/feedback`, body);
export const addRunToDataset = (runId: string, dataset: string) =>
  api<DatasetItem>("POST", `runs/${runId}/add-to-dataset`, { dataset });

export const listDatasets = (wf: string) => api<DatasetInfo[]>("GET", `${w(wf)}/datasets`);
export const createDataset = (wf: string, body: { name: string; graders: Grader[] }) =>
  api<DatasetInfo>("POST", `${w(wf)}/datasets`, body);
export const updateDataset = (wf: string, id: string, body: Partial<{ name: string; graders: Grader[] }>) =>
  api<DatasetInfo>("PATCH", `${w(wf)}/datasets/${id}`, body);
export const listItems = (wf: string, id: string) => api<DatasetItem[]>("GET", `${w(wf)}/datasets/${id}/items`);
export const addItems = (wf: string, id: string, items: { input: unknown; expected?: unknown }[]) =>
  api<DatasetItem[]>("POST", `${w(wf)}/datasets/${id}/items`, { items });
export const deleteItem = (wf: string, id: string, item: string) =>
  api<void>("DELETE", `${w(wf)}/datasets/${id}/items/${item}`);
export const addRunsMatching = (wf: string, id: string, filter: Record<string, unknown>) =>
  api<{ added: number }>("POST", `${w(wf)}/datasets/${id}/items/from-runs`, { filter });
export const exportUrl = (wf: string, id: string, format: "csv" | "jsonl") =>
  `/api/v1/${w(wf)}/datasets/${id}/items/export?format=${format}&workspace=${encodeURIComponent(currentWorkspace() ?? "")}`;

/** Uploads a CSV or JSONL file as multipart (the JSON helper cannot send files). */
export async function importItems(wf: string, id: string, file: File): Promise<{ imported: number }> {
  const form = new FormData();
  form.append("file", file);
  const headers: Record<string, string> = { Accept: "application/json", "X-CSRFToken": csrfToken() };
  const slug = currentWorkspace();
  if (slug) headers["X-Trellis-Workspace"] = slug;
  const response = await fetch(`/api/v1/${w(wf)}/datasets/${id}/items/import`, {
    method: "POST",
    headers,
    body: form,
    credentials: "same-origin",
  });
  const data = await response.json().catch(() => undefined);
  if (!response.ok) throw new Error(data?.error?.message ?? `Import failed (${response.status})`);
  return data;
}

export const listEvals = (wf: string) => api<EvalInfo[]>("GET", `${w(wf)}/evals`);
export const getEval = (wf: string, id: string) => api<EvalInfo>("GET", `${w(wf)}/evals/${id}`);
export const startEval = (wf: string, body: { dataset: string; version: number | "draft" }) =>
  api<{ id: string; status: string }>("POST", `${w(wf)}/evals`, body);
export const cancelEval = (wf: string, id: string) => api<EvalInfo>("POST", `${w(wf)}/evals/${id}/cancel`);
export const compareEvals = (wf: string, a: string, b: string) =>
  api<EvalComparison>("GET", `${w(wf)}/evals/${a}/compare/${b}`);

/** Asks the server whether one grader is valid (a CEL expression that does not compile comes back as the error). */
export const checkGrader = (wf: string, grader: Grader) =>
  api<{ valid: true; grader: Grader }>("POST", `${w(wf)}/graders/check`, { grader });

export const getGate = (wf: string) => api<PublishGate | null>("GET", `${w(wf)}/publish-gate`);
export const setGate = (wf: string, body: { dataset: string; min_pass_rate: number } | null) =>
  api<PublishGate | null>("PUT", `${w(wf)}/publish-gate`, body ?? undefined);

export const pct = (x: number | null | undefined) => (x == null ? "—" : `${Math.round(x * 1000) / 10}%`);

export interface FinetuneExportInfo {
  id: string;
  node_id: string;
  method: "supervised" | "dpo" | "reinforcement";
  examples: number;
  tokens: number;
  estimated_cost: number;
  warnings: string[];
  download_url: string;
  created_at: string;
}

export interface FinetuneJobInfo {
  id: string;
  export: string;
  provider: number;
  provider_name: string;
  base_model: string;
  status: string;
  fine_tuned_model: string | null;
  events: { created_at: number; level: string; message: string }[];
  error: { code: string; message: string } | null;
  created_at: string;
}

export const listExports = (wf: string) => api<FinetuneExportInfo[]>("GET", `${w(wf)}/finetune-exports`);
export const createExport = (wf: string, body: { node_id: string; method: string; filters: Record<string, unknown>; base_model?: string; grader?: Grader }) =>
  api<FinetuneExportInfo>("POST", `${w(wf)}/finetune-exports`, body);
export const listJobs = () => api<FinetuneJobInfo[]>("GET", "finetune-jobs");
export const launchJob = (body: { export: string; provider: number; base_model: string }) =>
  api<FinetuneJobInfo>("POST", "finetune-jobs", body);
export const cancelJob = (id: string) => api<FinetuneJobInfo>("POST", `finetune-jobs/${id}/cancel`);
export const tryModel = (wf: string, body: { node_id: string; model: string; provider: number; copy?: boolean }) =>
  api<{ id: string; name: string }>("POST", `${w(wf)}/try-model`, body);
