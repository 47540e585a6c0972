/**
 * Usage and audit reads. Both prefer the server's read-only endpoints (runs/usage_urls.py,
 * builder/audit_urls.py); where those are not mounted yet (404) they fall back to what existing
 * endpoints offer: usage from the latest runs, the audit log from each workflow's trail.
 */
import { aggregateRuns } from "../pages/usage/aggregate";
import { ApiError, api } from "./client";
import { listRuns } from "./runs";
import type { AuditEntry, RunSummary, UsageReport } from "./screens";
import { listWorkflows } from "./workflows";

const notMounted = (e: unknown) => e instanceof ApiError && (e.status === 404 || e.status === 405);

/** How many runs the browser reads at most when it has to compute usage itself. */
export const FALLBACK_RUNS = 1000;

export async function getUsage(days: number): Promise<UsageReport> {
  try {
    return await api<UsageReport>("GET", `usage?days=${days}`);
  } catch (e) {
    if (!notMounted(e)) throw e;
  }
  const since = Date.now() - days * 86_400_000;
  const runs: RunSummary[] = [];
  let cursor: string | null = null;
  do {
    const page = await listRuns({}, cursor, 200);
    runs.push(...page.results);
    cursor = page.next_cursor;
    const oldest = page.results[page.results.length - 1];
    if (oldest && new Date(oldest.created_at).getTime() < since) break;
  } while (cursor && runs.length < FALLBACK_RUNS);
  const workflows = await listWorkflows();
  const names = Object.fromEntries(workflows.map((w) => [w.id, w.name]));
  return aggregateRuns(runs, { days, workflowNames: names });
}

export interface AuditPage {
  results: AuditEntry[];
  next_before: number | null;
  source: "server" | "workflows";
}

export async function getAudit(before?: number | null): Promise<AuditPage> {
  try {
    const page = await api<{ results: AuditEntry[]; next_before: number | null }>(
      "GET",
      `audit?limit=50${before ? `&before=${before}` : ""}`,
    );
    return { ...page, source: "server" };
  } catch (e) {
    if (!notMounted(e)) throw e;
  }
  const workflows = await listWorkflows();
  const lists = await Promise.all(
    workflows.map(async (w) =>
      (await api<AuditEntry[]>("GET", `workflows/${w.id}/audit`)).map((a) => ({
        ...a,
        target_type: "workflow",
        target_id: w.id,
        target_name: w.name,
      })),
    ),
  );
  const all = lists.flat().sort((a, b) => b.created_at.localeCompare(a.created_at));
  return { results: all.slice(0, 200), next_before: null, source: "workflows" };
}
