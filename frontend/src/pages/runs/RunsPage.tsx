/**
 * Run history: every run of the workspace (/runs) or of one workflow (/workflows/:id/runs), newest first,
 * filtered on the server by status, version, trigger and date (UTC days), refreshed every few seconds while the
 * page is open.
 */
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { listRuns } from "../../api/runs";
import type { RunFilters, RunSummary } from "../../api/screens";
import { listWorkflows } from "../../api/workflows";
import { Empty, ErrorState, Loading } from "../../components/States";
import { useWorkspace } from "../../shell/workspace";
import { RUN_STATUSES, STATUS_LABEL, StatusChip, formatCost, formatDuration, relativeTime } from "../common/status";
import { WorkflowTabs } from "../common/WorkflowTabs";
import "../screens.css";

export const TRIGGER_TYPES = ["manual", "api", "webhook", "schedule", "openai", "rerun", "chat", "eval"];
const LIVE_MS = 2500;

/**
 * The server filters and pages (GET /runs); it answers 400 to a filter it cannot apply. Those the screen
 * can see coming are caught here instead, so typing "dra…" on the way to "draft" is a hint, not an error.
 */
export function filterProblem(f: RunFilters): string | null {
  if (f.version && !/^([1-9]\d*|draft)$/.test(f.version)) return "Version is a number, such as 3, or “draft”.";
  if (f.since && f.until && f.since > f.until) return "The “From” date is after the “To” date.";
  return null;
}

export function runDuration(run: Pick<RunSummary, "started_at" | "finished_at" | "status">, now = Date.now()): number | null {
  if (!run.started_at) return null;
  const end = run.finished_at ? new Date(run.finished_at).getTime() : now;
  return end - new Date(run.started_at).getTime();
}

export function triggerLabel(run: RunSummary): string {
  const t = run.trigger?.type ?? "—";
  if (t === "rerun" && run.trigger.node_id) return `rerun from ${run.trigger.node_id}`;
  return t;
}

export default function RunsPage() {
  const { workflowId } = useParams();
  const { current } = useWorkspace();
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const filters: RunFilters = {
    workflow: workflowId ?? params.get("workflow") ?? undefined,
    status: params.get("status") ?? undefined,
    version: params.get("version") ?? undefined,
    trigger: params.get("trigger") ?? undefined,
    since: params.get("since") ?? undefined,
    until: params.get("until") ?? undefined,
    // The server refuses any other value (a 400 the page shows).
    feedback: (params.get("feedback") ?? undefined) as RunFilters["feedback"],
  };
  const set = (key: keyof RunFilters, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };

  const workflows = useQuery({ queryKey: ["workflows", current?.slug], queryFn: listWorkflows, enabled: !!current });
  const names = useMemo(() => Object.fromEntries((workflows.data ?? []).map((w) => [w.id, w.name])), [workflows.data]);
  const problem = filterProblem(filters);
  const runs = useInfiniteQuery({
    queryKey: ["runs", current?.slug, filters],
    queryFn: ({ pageParam }) => listRuns(filters, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
    enabled: !!current && !problem,
    refetchInterval: LIVE_MS,
    refetchIntervalInBackground: false,
    staleTime: 0,
  });
  const rows = runs.data?.pages.flatMap((p) => p.results) ?? [];
  const filtered = !!(filters.status || filters.version || filters.trigger || filters.since || filters.until || filters.feedback || (!workflowId && filters.workflow));
  const now = Date.now();

  return (
    <section aria-labelledby="runs-title" className="screen">
      {workflowId ? (
        <WorkflowTabs workflowId={workflowId} />
      ) : (
        <div className="page-head">
          <h1 id="runs-title">Runs</h1>
        </div>
      )}
      {workflowId && <h2 id="runs-title" className="sr-only">Runs</h2>}
      <form className="filters" aria-label="Filter runs" onSubmit={(e) => e.preventDefault()}>
        {!workflowId && (
          <label>
            Workflow
            <select value={filters.workflow ?? ""} onChange={(e) => set("workflow", e.target.value)}>
              <option value="">All workflows</option>
              {(workflows.data ?? []).map((w) => (
                <option key={w.id} value={w.id}>
                  {w.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          Status
          <select value={filters.status ?? ""} onChange={(e) => set("status", e.target.value)}>
            <option value="">Any status</option>
            {RUN_STATUSES.map((s) => (
              <option key={s} value={s}>
                {STATUS_LABEL[s]}
              </option>
            ))}
          </select>
        </label>
        <label>
          Version
          <input
            value={filters.version ?? ""}
            onChange={(e) => set("version", e.target.value.replace(/^v/i, "").trim())}
            placeholder="any, 3, draft"
            size={8}
          />
        </label>
        <label>
          Feedback
          <select value={filters.feedback ?? ""} onChange={(e) => set("feedback", e.target.value)}>
            <option value="">Any feedback</option>
            <option value="up">👍 Good</option>
            <option value="down">👎 Bad</option>
            <option value="any">Some</option>
            <option value="none">None</option>
          </select>
        </label>
        <label>
          Trigger
          <select value={filters.trigger ?? ""} onChange={(e) => set("trigger", e.target.value)}>
            <option value="">Any trigger</option>
            {TRIGGER_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label>
          From
          <input type="date" value={filters.since ?? ""} onChange={(e) => set("since", e.target.value)} />
        </label>
        <label>
          To
          <input type="date" value={filters.until ?? ""} onChange={(e) => set("until", e.target.value)} />
        </label>
        {filtered && (
          <button type="button" className="link-btn" onClick={() => setParams(new URLSearchParams(), { replace: true })}>
            Clear filters
          </button>
        )}
        <span className="live" title={`Refreshes every ${LIVE_MS / 1000} s`}>
          <span className={`live-dot${runs.isFetching ? " busy" : ""}`} aria-hidden /> Live
        </span>
      </form>

      {!current ? (
        <Empty title="No workspace" />
      ) : problem ? (
        <Empty title="Check the filters">
          <p>{problem}</p>
        </Empty>
      ) : runs.isLoading ? (
        <Loading label="Loading runs" />
      ) : runs.isError ? (
        <ErrorState error={runs.error} retry={() => void runs.refetch()} />
      ) : !rows.length && !runs.hasNextPage ? (
        <Empty title={filtered ? "No runs match these filters" : "No runs yet"}>
          {filtered ? (
            <p>Try another status, version, trigger or date.</p>
          ) : (
            <p>Runs appear here when a workflow is run from the editor, the API, a webhook or a schedule.</p>
          )}
        </Empty>
      ) : (
        <>
          <table className="table runs-table" aria-label="Runs">
            <thead>
              <tr>
                <th>Status</th>
                <th>Run</th>
                {!workflowId && <th>Workflow</th>}
                <th>Version</th>
                <th>Trigger</th>
                <th>Started</th>
                <th>Duration</th>
                <th className="num">Tokens</th>
                <th className="num">Cost</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id} className="clickable" data-run-id={r.id} onClick={() => navigate(`/runs/${r.id}`)}>
                  <td>
                    <StatusChip status={r.status} />
                  </td>
                  <td>
                    <Link to={`/runs/${r.id}`} onClick={(e) => e.stopPropagation()} aria-label={`Run ${r.id.slice(0, 8)}`}>
                      <code>{r.id.slice(0, 8)}</code>
                    </Link>
                  </td>
                  {!workflowId && <td>{names[r.workflow] ?? <span className="muted">—</span>}</td>}
                  <td>{r.is_draft ? <span className="muted">draft</span> : r.version != null ? `v${r.version}` : "—"}</td>
                  <td>{triggerLabel(r)}</td>
                  <td title={new Date(r.created_at).toLocaleString()}>{relativeTime(r.created_at, now)}</td>
                  <td>{formatDuration(runDuration(r, now))}</td>
                  <td className="num">{(r.usage.input_tokens + r.usage.output_tokens).toLocaleString()}</td>
                  <td className="num">{formatCost(r.usage.cost_usd)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="list-foot">
            <span className="muted small-text">
              {rows.length} run{rows.length === 1 ? "" : "s"} shown
            </span>
            {runs.hasNextPage && (
              <button type="button" onClick={() => void runs.fetchNextPage()} disabled={runs.isFetchingNextPage}>
                {runs.isFetchingNextPage ? "Loading…" : "Load older runs"}
              </button>
            )}
          </div>
        </>
      )}
    </section>
  );
}
