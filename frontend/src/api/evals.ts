/** Evals API (DESIGN §10): feedback, datasets and items, evals and their comparison, the publish gate. The shapes
 * come from the OpenAPI document (schema.d.ts). */
import { api, csrfToken, currentWorkspace } from "./client";
import type { components, operations } from "./schema";

type Schemas = components["schemas"];

/** A grader: its type and name, and the fields of its type (GradersEditor). */
export type Grader = Schemas["GraderOut"];

export type FeedbackInfo = Schemas["FeedbackOut"];

export type DatasetInfo = Omit<Schemas["DatasetOut"], "graders"> & { graders: Grader[] };

export type DatasetItem = Schemas["DatasetItemOut"];

export type EvalSummary = Schemas["EvalSummaryOut"];

export type EvalItemResult = Schemas["EvalResultOut"];

export type EvalInfo = Omit<Schemas["EvalOut"], "graders"> & { graders: Grader[] };

export type CompareSide = Schemas["CompareSideOut"];

export type EvalComparison = Omit<Schemas["EvalCompareOut"], "a" | "b"> & { a: EvalInfo; b: EvalInfo };

export type PublishGate = NonNullable<
  operations["v1_workflows_publish_gate_retrieve"]["responses"][200]["content"]["application/json"]
>;

/** One item of an `eval_gate_failed` error's details (the publish answer's error, free-form in the document). */
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
export const giveFeedback = (runId: string, body: Schemas["FeedbackInRequest"]) =>
  api<FeedbackInfo>("POST", `runs/${runId}/feedback`, body);
export const addRunToDataset = (runId: string, dataset: string) =>
  api<DatasetItem>("POST", `runs/${runId}/add-to-dataset`, { dataset });

export const listDatasets = (wf: string) => api<DatasetInfo[]>("GET", `${w(wf)}/datasets`);
export const createDataset = (wf: string, body: Schemas["DatasetInRequest"]) =>
  api<DatasetInfo>("POST", `${w(wf)}/datasets`, body);
export const updateDataset = (wf: string, id: string, body: Schemas["DatasetPatchInRequest"]) =>
  api<DatasetInfo>("PATCH", `${w(wf)}/datasets/${id}`, body);
export const listItems = (wf: string, id: string) => api<DatasetItem[]>("GET", `${w(wf)}/datasets/${id}/items`);
export const addItems = (wf: string, id: string, items: Schemas["ItemInRequest"][]) =>
  api<DatasetItem[]>("POST", `${w(wf)}/datasets/${id}/items`, { items });
export const deleteItem = (wf: string, id: string, item: string) =>
  api<void>("DELETE", `${w(wf)}/datasets/${id}/items/${item}`);
export const addRunsMatching = (wf: string, id: string, filter: Omit<Schemas["FromRunsInRequest"], "filter">) =>
  api<Schemas["AddedOut"]>("POST", `${w(wf)}/datasets/${id}/items/from-runs`, { filter });
export const exportUrl = (wf: string, id: string, format: "csv" | "jsonl") =>
  `/api/v1/${w(wf)}/datasets/${id}/items/export?format=${format}&workspace=${encodeURIComponent(currentWorkspace() ?? "")}`;

/** Uploads a CSV or JSONL file as multipart (the JSON helper cannot send files). */
export async function importItems(wf: string, id: string, file: File): Promise<Schemas["ImportedOut"]> {
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
export const startEval = (wf: string, body: Schemas["EvalStartInRequest"]) =>
  api<Schemas["EvalStartedOut"]>("POST", `${w(wf)}/evals`, body);
export const cancelEval = (wf: string, id: string) => api<EvalInfo>("POST", `${w(wf)}/evals/${id}/cancel`);
export const compareEvals = (wf: string, a: string, b: string) =>
  api<EvalComparison>("GET", `${w(wf)}/evals/${a}/compare/${b}`);

/** Asks the server whether one grader is valid (a CEL expression that does not compile comes back as the error). */
export const checkGrader = (wf: string, grader: Grader) =>
  api<Omit<Schemas["GraderCheckOut"], "grader"> & { grader: Grader }>("POST", `${w(wf)}/graders/check`, { grader });

export const getGate = (wf: string) => api<PublishGate | null>("GET", `${w(wf)}/publish-gate`);
export const setGate = (wf: string, body: NonNullable<operations["v1_workflows_publish_gate_update"]["requestBody"]>["content"]["application/json"]) =>
  api<PublishGate | null>("PUT", `${w(wf)}/publish-gate`, body ?? undefined);

export const pct = (x: number | null | undefined) => (x == null ? "—" : `${Math.round(x * 1000) / 10}%`);

export type FinetuneExportInfo = Schemas["FinetuneExportOut"];

export type FinetuneJobInfo = Schemas["FinetuneJobOut"];

export const listExports = (wf: string) => api<FinetuneExportInfo[]>("GET", `${w(wf)}/finetune-exports`);
export const createExport = (wf: string, body: Schemas["FinetuneExportInRequest"]) =>
  api<FinetuneExportInfo>("POST", `${w(wf)}/finetune-exports`, body);
export const listJobs = () => api<FinetuneJobInfo[]>("GET", "finetune-jobs");
export const launchJob = (body: Schemas["FinetuneJobInRequest"]) =>
  api<FinetuneJobInfo>("POST", "finetune-jobs", body);
export const cancelJob = (id: string) => api<FinetuneJobInfo>("POST", `finetune-jobs/${id}/cancel`);
export const tryModel = (wf: string, body: Schemas["TryModelInRequest"]) =>
  api<Schemas["TriedModelOut"]>("POST", `${w(wf)}/try-model`, body);
