/** Run history API: filtered, keyset-paginated lists, run detail with steps, rerun, the pinned graph. */
import type { Graph } from "../graph/format";
import { ApiError, api } from "./client";
import type { RunDetail, RunFilters, RunPage } from "./screens";

export const RUN_PAGE_SIZE = 50;

/**
 * A keyset cursor that starts the newest-first list at the end of a UTC day, so that a "to" date skips the
 * newer runs in the database instead of in the browser. It mirrors runs/selectors.encode_cursor
 * ("<created_at>|<id>", base64url); a server that reads it differently ignores it, and the screen still
 * filters the rows itself.
 */
export function untilCursor(day: string): string {
  const raw = `${day}T23:59:59.999999+00:00|ffffffff-ffff-ffff-ffff-ffffffffffff`;
  return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Query string for the run list. Filters the server does not know yet are also applied by the screen. */
export function runListQuery(filters: RunFilters, cursor?: string | null, limit = RUN_PAGE_SIZE): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
  const start = cursor ?? (filters.until && /^\d{4}-\d{2}-\d{2}$/.test(filters.until) ? untilCursor(filters.until) : null);
  if (start) q.set("cursor", start);
  q.set("limit", String(limit));
  return q.toString();
}

export const listRuns = (filters: RunFilters, cursor?: string | null, limit = RUN_PAGE_SIZE) =>
  api<RunPage>("GET", `runs?${runListQuery(filters, cursor, limit)}`);

export const getRunDetail = (id: string) => api<RunDetail>("GET", `runs/${id}`);

export const rerunRun = (id: string, fromStep?: string) =>
  api<RunDetail>("POST", `runs/${id}/rerun`, fromStep ? { from_step: fromStep } : {});

/**
 * The graph the run executed. Newer servers expose it directly (runs/<id>/graph); otherwise the pinned
 * version's graph, or — for a draft run — the current draft (flagged, because it may have changed since).
 */
export async function getRunGraph(run: RunDetail): Promise<{ graph: Graph; approximate: boolean }> {
  if (run.graph) return { graph: run.graph, approximate: false };
  try {
    const data = await api<{ graph: Graph }>("GET", `runs/${run.id}/graph`);
    return { graph: data.graph, approximate: false };
  } catch (e) {
    if (!(e instanceof ApiError) || (e.status !== 404 && e.status !== 405)) throw e;
  }
  if (run.version != null) {
    const v = await api<{ graph: Graph }>("GET", `workflows/${run.workflow}/versions/${run.version}`);
    return { graph: v.graph, approximate: false };
  }
  const d = await api<{ graph: Graph }>("GET", `workflows/${run.workflow}/draft`);
  return { graph: d.graph, approximate: true };
}

/** Decide a waiting user_approval step. The API takes "approved" or "rejected". */
export const decideStep = (runId: string, stepId: string, decision: "approved" | "rejected", comment = "") =>
  api<RunDetail>("POST", `runs/${runId}/approvals`, { step_id: stepId, decision, comment });
