/** Run history API: run detail with steps, rerun, the pinned graph, approvals. (The filtered list is in runs.ts.) */
import type { Graph } from "../graph/format";
import { ApiError, api } from "./client";
import type { RunDetail, RunGraph, VersionDetail } from "./screens";
import type { Draft } from "./types";

export const getRunDetail = (id: string) => api<RunDetail>("GET", `runs/${id}`);

export const rerunRun = (id: string, fromStep?: string) =>
  api<RunDetail>("POST", `runs/${id}/rerun`, fromStep ? { from_step: fromStep } : {});

/**
 * The graph the run executed. Newer servers expose it directly (runs/<id>/graph); otherwise the pinned
 * version's graph, or — for a draft run — the current draft (flagged, because it may have changed since).
 */
export async function getRunGraph(run: RunDetail): Promise<{ graph: Graph; approximate: boolean }> {
  try {
    const data = await api<RunGraph>("GET", `runs/${run.id}/graph`);
    return { graph: data.graph, approximate: false };
  } catch (e) {
    if (!(e instanceof ApiError) || (e.status !== 404 && e.status !== 405)) throw e;
  }
  if (run.version != null) {
    const v = await api<VersionDetail>("GET", `workflows/${run.workflow}/versions/${run.version}`);
    return { graph: v.graph, approximate: false };
  }
  const d = await api<Draft>("GET", `workflows/${run.workflow}/draft`);
  return { graph: d.graph, approximate: true };
}

/** Decide a waiting user_approval step. The API takes "approved" or "rejected". */
export const decideStep = (runId: string, stepId: string, decision: "approved" | "rejected", comment = "") =>
  api<RunDetail>("POST", `runs/${runId}/approvals`, { step_id: stepId, decision, comment });
