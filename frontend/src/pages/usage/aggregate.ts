/**
 * Usage figures computed in the browser from a list of runs, for servers without the usage endpoint.
 * Same shape as the server's report; per-model figures need step data, so they stay empty here.
 */
import type { RunSummary, UsageReport, UsageRow } from "../../api/screens";

export const dayOf = (iso: string) => iso.slice(0, 10);

/** The last `days` calendar days (UTC), oldest first, ending today. */
export function dayRange(days: number, now = new Date()): string[] {
  const out: string[] = [];
  const end = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  for (let i = days - 1; i >= 0; i--) out.push(new Date(end - i * 86_400_000).toISOString().slice(0, 10));
  return out;
}

function add(rows: Map<string, UsageRow>, key: string, run: RunSummary, label?: string) {
  const row = rows.get(key) ?? { key, label, runs: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0 };
  row.runs += 1;
  row.input_tokens += run.usage?.input_tokens ?? 0;
  row.output_tokens += run.usage?.output_tokens ?? 0;
  row.cost_usd += run.usage?.cost_usd ?? 0;
  rows.set(key, row);
}

export function aggregateRuns(
  runs: RunSummary[],
  opts: { days: number; now?: Date; workflowNames?: Record<string, string> },
): UsageReport {
  const range = new Set(dayRange(opts.days, opts.now));
  const perDay = new Map<string, UsageRow>();
  const perWorkflow = new Map<string, UsageRow>();
  const statusByDay = new Map<string, Record<string, number>>();
  for (const run of runs) {
    const day = dayOf(run.created_at);
    if (!range.has(day)) continue;
    add(perDay, day, run);
    add(perWorkflow, run.workflow, run, opts.workflowNames?.[run.workflow]);
    const counts = statusByDay.get(day) ?? {};
    counts[run.status] = (counts[run.status] ?? 0) + 1;
    statusByDay.set(day, counts);
  }
  const round = (r: UsageRow) => ({ ...r, cost_usd: Math.round(r.cost_usd * 1e6) / 1e6 });
  return {
    days: opts.days,
    source: "runs",
    sampled_runs: runs.length,
    per_day: [...perDay.values()].sort((a, b) => a.key.localeCompare(b.key)).map(round),
    per_workflow: [...perWorkflow.values()].sort((a, b) => b.cost_usd - a.cost_usd || b.runs - a.runs).map(round),
    per_model: [],
    status_by_day: [...statusByDay.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([day, counts]) => ({ day, counts })),
  };
}

/** Fills days without runs with zeros so that a chart has one bar per day. */
export function fillDays(rows: UsageRow[], days: string[]): UsageRow[] {
  const by = new Map(rows.map((r) => [r.key, r]));
  return days.map((d) => by.get(d) ?? { key: d, runs: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0 });
}
