/**
 * One run: the graph it executed (read-only) with the trace drawn over it, a timeline of its steps, the
 * selected step's input, output, error and usage, and the controls a role allows (rerun, rerun from a step,
 * cancel, approve or reject a waiting approval), and where its outbound callback stands.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { errorMessage } from "../../api/client";
import { TERMINAL } from "../../api/events";
import { decideStep, getRunDetail, getRunGraph, rerunRun } from "../../api/history";
import { cancelRun, followRun } from "../../api/runs";
import type { RunCallback, RunDetail, StepRecord } from "../../api/screens";
import type { Role } from "../../api/types";
import { getWorkflow } from "../../api/workflows";
import { ErrorState, Loading } from "../../components/States";
import { useWorkspace } from "../../shell/workspace";
import { GraphView } from "../common/GraphView";
import { JsonView } from "../common/JsonView";
import { roleAtLeast } from "../common/roles";
import { StatusChip, errorMessageOf, formatCost, formatDuration, formatTime } from "../common/status";
import { costWithUnknown } from "../budgets/format";
import "../budgets/budgets.css";
import { runDuration, triggerLabel } from "./RunsPage";
import { callbackSummary } from "./callback";
import { Citations } from "./Citations";
import { FeedbackBox } from "./FeedbackBox";
import { Timeline } from "./Timeline";
import { focusStep, nodeStatuses, stepLabel } from "./trace";
import "../screens.css";

export default function RunDetailPage() {
  const { runId } = useParams();
  const qc = useQueryClient();
  const run = useQuery({
    queryKey: ["run", runId],
    queryFn: () => getRunDetail(runId!),
    // A finished run is polled slowly while its callback is still pending (retries can come later).
    refetchInterval: (q) =>
      !q.state.data || !TERMINAL.has(q.state.data.status) ? 3000 : q.state.data.callback?.state === "pending" ? 10000 : false,
    staleTime: 0,
  });
  const active = !!run.data && !TERMINAL.has(run.data.status);

  // Live: every event on the run's socket refreshes the detail (coalesced), polling is the fallback.
  useEffect(() => {
    if (!runId || !active) return;
    let timer: number | undefined;
    let seq = 0;
    const stop = followRun(
      runId,
      () => seq,
      (ev) => {
        if (ev.seq != null) seq = Math.max(seq, ev.seq);
        if (ev.type === "step.delta") return;
        window.clearTimeout(timer);
        timer = window.setTimeout(() => void qc.invalidateQueries({ queryKey: ["run", runId] }), 150);
      },
      () => false,
    );
    return () => {
      window.clearTimeout(timer);
      stop();
    };
  }, [runId, active, qc]);

  if (run.isLoading) return <Loading label="Loading the run" />;
  if (run.isError || !run.data) return <ErrorState error={run.error} retry={() => void run.refetch()} />;
  return <RunView run={run.data} />;
}

function RunView({ run }: { run: RunDetail }) {
  const { current } = useWorkspace();
  const role = current?.role;
  const canEdit = roleAtLeast(role, "editor");
  const qc = useQueryClient();
  const navigate = useNavigate();
  const workflow = useQuery({ queryKey: ["workflow", run.workflow], queryFn: () => getWorkflow(run.workflow) });
  const graph = useQuery({
    queryKey: ["run-graph", run.id, run.version],
    queryFn: () => getRunGraph(run),
    staleTime: Infinity,
  });
  const names = useMemo(
    () => Object.fromEntries((graph.data?.graph.nodes ?? []).map((n) => [n.id, n.name])),
    [graph.data],
  );
  const [selectedId, setSelectedId] = useState<string | null>(() => focusStep(run)?.id ?? null);
  const focus = focusStep(run);
  useEffect(() => {
    // A run that fails while being watched opens its failing step.
    if (!selectedId && focus) setSelectedId(focus.id);
  }, [focus, selectedId]);
  const selected = run.steps.find((s) => s.id === selectedId);
  const status = useMemo(() => nodeStatuses(run.steps), [run.steps]);

  const refresh = () => void qc.invalidateQueries({ queryKey: ["run", run.id] });
  const rerun = useMutation({
    mutationFn: (fromStep?: string) => rerunRun(run.id, fromStep),
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: ["runs"] });
      navigate(`/runs/${r.id}`);
    },
  });
  const cancel = useMutation({ mutationFn: () => cancelRun(run.id), onSettled: refresh });
  const active = !TERMINAL.has(run.status);
  const runErr = run.error ? errorMessageOf(run.error) : "";
  const errNode = run.error && typeof run.error === "object" ? run.error.node_id : undefined;
  const errCode = run.error && typeof run.error === "object" ? run.error.code : undefined;
  const budgetStop = errCode === "budget_exceeded" || errCode === "price_unknown" ? errCode : null;
  const tokens = run.usage.input_tokens + run.usage.output_tokens;
  const waiting = run.steps.filter((s) => s.status === "waiting");

  return (
    <section className="screen run-detail" aria-labelledby="run-title">
      <div className="page-head">
        <div>
          <div className="crumbs">
            <Link to="/runs">Runs</Link> / <Link to={`/workflows/${run.workflow}/runs`}>{workflow.data?.name ?? "Workflow"}</Link> /
          </div>
          <h1 id="run-title">
            Run <code>{run.id.slice(0, 8)}</code> <StatusChip status={run.status} />
          </h1>
        </div>
        <div className="actions">
          {canEdit && active && (
            <button type="button" className="danger" onClick={() => cancel.mutate()} disabled={cancel.isPending || run.status === "queued" && cancel.isSuccess}>
              Cancel run
            </button>
          )}
          {canEdit && (
            <button type="button" className="primary" onClick={() => rerun.mutate(undefined)} disabled={rerun.isPending}>
              {rerun.isPending ? "Starting…" : "Rerun"}
            </button>
          )}
        </div>
      </div>

      <dl className="facts">
        <div>
          <dt>Version</dt>
          <dd>{run.is_draft ? "Draft (test run)" : run.version != null ? `v${run.version}` : "—"}</dd>
        </div>
        <div>
          <dt>Trigger</dt>
          <dd>{triggerLabel(run)}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{formatTime(run.started_at ?? run.created_at)}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{formatDuration(runDuration(run))}</dd>
        </div>
        <div>
          <dt>Tokens</dt>
          <dd>
            {tokens.toLocaleString()} <span className="muted small-text">({run.usage.input_tokens} in / {run.usage.output_tokens} out)</span>
          </dd>
        </div>
        <div>
          <dt>Cost</dt>
          <dd>{run.usage.price_unknown ? costWithUnknown(run.usage.cost_usd, true) : formatCost(run.usage.cost_usd)}</dd>
        </div>
      </dl>

      {(rerun.isError || cancel.isError) && (
        <p className="field-error" role="alert">
          {errorMessage(rerun.error ?? cancel.error)}
        </p>
      )}

      {budgetStop ? (
        <BudgetStop code={budgetStop} message={runErr} />
      ) : runErr && (
        <div className="run-error" role="alert" aria-label="Run error">
          <strong>This run {run.status === "timed_out" ? "timed out" : "failed"}</strong>
          {errNode && (
            <>
              {" "}at{" "}
              <button type="button" className="link-btn strong" onClick={() => setSelectedId([...run.steps].reverse().find((s) => s.node_id === errNode)?.id ?? null)}>
                {names[errNode] ?? errNode}
              </button>
            </>
          )}
          : {runErr}
        </div>
      )}

      <FeedbackBox runId={run.id} workflowId={run.workflow} canEdit={canEdit} />

      {waiting.map((w) => (
        <ApprovalBox key={w.id} run={run} step={w} role={role} name={names[w.node_id] ?? w.node_id} onDone={refresh} />
      ))}

      <div className="run-grid">
        <div className="run-main">
          <h2>Trace</h2>
          {graph.isLoading ? (
            <Loading label="Loading the graph" />
          ) : graph.isError ? (
            <ErrorState error={graph.error} />
          ) : graph.data ? (
            <>
              {graph.data.approximate && (
                <p className="muted small-text">Test run of the draft: the canvas shows the current draft, which may have changed since.</p>
              )}
              <GraphView
                graph={graph.data.graph}
                status={status}
                selectedId={selected?.node_id}
                onSelect={(nodeId) => {
                  const last = [...run.steps].reverse().find((s) => s.node_id === nodeId);
                  if (last) setSelectedId(last.id);
                }}
                label="Run trace"
                height={340}
              />
            </>
          ) : null}
          <h2>Timeline</h2>
          <Timeline run={run} names={names} selectedId={selectedId} onSelect={setSelectedId} />
        </div>
        <aside className="run-side" aria-label="Step details">
          {selected ? (
            <>
              <StepPanel step={selected} name={stepLabel(selected, names)} canRerun={canEdit && !active} onRerunFrom={() => rerun.mutate(selected.id)} busy={rerun.isPending} />
              {selected.node_type === "agent" && selected.status === "succeeded" && (
                <FeedbackBox runId={run.id} workflowId={run.workflow} stepId={selected.id} stepName={stepLabel(selected, names)} canEdit={canEdit} />
              )}
            </>
          ) : (
            <div className="muted pad">Select a step on the canvas or the timeline to see its input, output and error.</div>
          )}
          {run.callback && <CallbackBox callback={run.callback} />}
          <RunIO run={run} />
        </aside>
      </div>
    </section>
  );
}

function StepPanel({ step, name, canRerun, onRerunFrom, busy }: { step: StepRecord; name: string; canRerun: boolean; onRerunFrom: () => void; busy: boolean }) {
  const err = step.error;
  const errObj = err && typeof err === "object" ? err : null;
  const cause = errObj ? Object.fromEntries(Object.entries(errObj).filter(([k]) => k !== "message" && k !== "code")) : {};
  return (
    <div className="step-panel" aria-label={`Step ${name}`}>
      <div className="row space">
        <h2 className="step-title">{name}</h2>
        <StatusChip status={step.status} />
      </div>
      <dl className="facts facts-small">
        <div>
          <dt>Type</dt>
          <dd>{step.node_type}</dd>
        </div>
        <div>
          <dt>{step.finished_at || !step.started_at ? "Duration" : step.status === "waiting" ? "Waiting for" : "Running for"}</dt>
          <dd>
            {formatDuration(
              step.finished_at || !step.started_at ? step.duration_ms : Date.now() - new Date(step.started_at).getTime(),
            )}
          </dd>
        </div>
        {step.port && (
          <div>
            <dt>Port</dt>
            <dd>{step.port}</dd>
          </div>
        )}
        {step.attempt > 1 && (
          <div>
            <dt>Attempt</dt>
            <dd>{step.attempt}</dd>
          </div>
        )}
        {step.usage && (
          <div>
            <dt>Tokens</dt>
            <dd>
              {(step.usage.input_tokens ?? 0) + (step.usage.output_tokens ?? 0)} ·{" "}
              {step.usage.price_unknown ? "price unknown" : formatCost(step.usage.cost_usd as number | undefined)}
              {step.usage.model ? ` · ${step.usage.model}` : ""}
            </dd>
          </div>
        )}
      </dl>
      {err && (
        <div className="step-error" role="alert" aria-label="Step error">
          <strong>{errObj?.code ? `${errObj.code}: ` : "Error: "}</strong>
          {errorMessageOf(err)}
          {Object.keys(cause).length > 0 && <JsonView label="Error details" value={cause} />}
        </div>
      )}
      {step.wait?.message && <p className="notice-warn">{step.wait.message}</p>}
      <Citations step={step} />
      <JsonView label="Input" value={step.input} />
      <JsonView label="Output" value={step.output} />
      {toolCalls(step).length > 0 && <JsonView label="Tool calls" value={toolCalls(step)} />}
      {canRerun && (
        <div className="rerun-from">
          <button type="button" onClick={onRerunFrom} disabled={busy}>
            Rerun from this step
          </button>
          <span className="muted small-text">Runs the current draft from here, reusing the results of the steps before it — fix the draft first.</span>
        </div>
      )}
    </div>
  );
}

function CallbackBox({ callback }: { callback: RunCallback }) {
  const summary = callbackSummary(callback, formatTime);
  return (
    <div className={`run-callback run-callback-${summary.tone}`} role="region" aria-label="Callback">
      <h2>Callback</h2>
      <p className="run-callback-state">{summary.text}</p>
      {summary.detail && <p className="muted small-text">{summary.detail}</p>}
      <p className="muted small-text">
        {callback.source === "trigger" ? "Trigger's callback URL" : "Callback URL"}:{" "}
        {callback.url ? <code>{callback.url}</code> : "removed"}
        {callback.source === "trigger" && " · every attempt is in the trigger's delivery log"}
      </p>
    </div>
  );
}

function RunIO({ run }: { run: RunDetail }) {
  return (
    <div className="run-io">
      <JsonView label="Run input" value={run.input} open={false} />
      <JsonView label="Run output" value={run.output} open={run.status === "succeeded"} />
    </div>
  );
}

function ApprovalBox({ run, step, role, name, onDone }: { run: RunDetail; step: StepRecord; role: Role | undefined; name: string; onDone: () => void }) {
  const [comment, setComment] = useState("");
  const needed = (step.wait?.approvers as Role | undefined) ?? "editor";
  const allowed = roleAtLeast(role, needed);
  const decide = useMutation({
    mutationFn: (decision: "approved" | "rejected") => decideStep(run.id, step.id, decision, comment),
    onSettled: onDone,
  });
  return (
    <div className="approval" role="region" aria-label={`Approval for ${name}`}>
      <p>
        <strong>{name} is waiting for approval.</strong> {step.wait?.message}
      </p>
      {step.wait?.kind === "tool_approval" && (
        <div className="tool-approval">
          <p>
            Tool <code>{step.wait.tool}</code>
            {step.wait.server && (
              <>
                {" "}
                on MCP server <code>{step.wait.server}</code>
              </>
            )}
          </p>
          <JsonView label="Tool arguments" value={step.wait.arguments} />
        </div>
      )}
      {step.wait?.timeout_at && <p className="muted small-text">Times out {formatTime(step.wait.timeout_at)}</p>}
      {allowed ? (
        <div className="row">
          <input aria-label="Comment" placeholder="Comment (optional)" value={comment} onChange={(e) => setComment(e.target.value)} />
          <button type="button" className="primary" onClick={() => decide.mutate("approved")} disabled={decide.isPending}>
            Approve
          </button>
          <button type="button" className="danger" onClick={() => decide.mutate("rejected")} disabled={decide.isPending}>
            Reject
          </button>
        </div>
      ) : (
        <p className="muted small-text">Only members with the {needed} role or higher can decide.</p>
      )}
      {decide.isError && <p className="field-error">{errorMessage(decide.error)}</p>}
    </div>
  );
}

/** A run stopped by a budget: say so plainly, and where the limit is set. */
function BudgetStop({ code, message }: { code: string; message: string }) {
  return (
    <div className="budget-exceeded" role="alert" aria-label="Budget exceeded">
      <h2>{code === "price_unknown" ? "No price for this model: the budget cannot be enforced" : "Budget exceeded: the model was not called"}</h2>
      <p>{message}</p>
      <p className="small-text">
        Budgets and model prices are set by admins in <Link to="/settings/budgets">Settings → Budgets</Link>. The run stopped before its
        next model call; nothing was sent to the provider for that step.
      </p>
    </div>
  );
}

/** The agent's traced tool calls (usage.tool_calls): name, arguments, result or error, latency. */
function toolCalls(step: StepRecord): unknown[] {
  const calls = (step.usage as { tool_calls?: unknown } | null | undefined)?.tool_calls;
  return Array.isArray(calls) ? calls : [];
}
