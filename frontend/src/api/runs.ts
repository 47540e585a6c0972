/** Runs API and the run-events WebSocket. */
import { api } from "./client";
import type { RunEvent } from "./events";
import type { RunFilters, RunPage } from "./screens";
import { followSocket } from "./socket";
import type { Run } from "./types";

export const startRun = (workflowId: string, input: unknown, version: number | "published" | "draft" = "draft") =>
  api<Run>("POST", `workflows/${workflowId}/runs`, { input, version });
export const RUN_PAGE_SIZE = 50;

/**
 * Query string for GET /runs. Every filter (workflow, status, version, trigger, since, until) is applied by
 * the server, so a next_cursor stays valid for the same filters; since/until are dates taken as UTC days.
 */
export function runListQuery(filters: RunFilters, cursor?: string | null, limit = RUN_PAGE_SIZE): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
  if (cursor) q.set("cursor", cursor);
  q.set("limit", String(limit));
  return q.toString();
}

export const listRuns = (filters: RunFilters, cursor?: string | null, limit = RUN_PAGE_SIZE) =>
  api<RunPage>("GET", `runs?${runListQuery(filters, cursor, limit)}`);

export const getRun = (id: string) => api<Run>("GET", `runs/${id}`);
export const cancelRun = (id: string) => api<Run>("POST", `runs/${id}/cancel`, {});
export const decideApproval = (runId: string, stepId: string, decision: "approved" | "rejected", comment = "") =>
  api<unknown>("POST", `runs/${runId}/approvals`, { step_id: stepId, decision, comment });

/**
 * Follows a run's events; reconnects with `after=<last seq>` so that nothing is missed or repeated.
 * Returns a function that stops following.
 */
export function followRun(
  runId: string,
  lastSeq: () => number,
  onEvent: (e: RunEvent) => void,
  isDone: () => boolean,
): () => void {
  return followSocket(
    () => `/ws/runs/${runId}/?after=${lastSeq()}`,
    (data) => {
      const events = data as RunEvent | RunEvent[];
      for (const e of Array.isArray(events) ? events : [events]) onEvent(e);
    },
    isDone,
  );
}
