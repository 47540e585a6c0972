/**
 * Test run: an input form from the start schema (or raw JSON), a draft run followed over the WebSocket,
 * streamed agent text, step details, inline approval and cancel.
 */
import { useEffect, useMemo, useRef, useState } from "react";
import { useShallow } from "zustand/react/shallow";
import { errorMessage } from "../api/client";
import { cancelRun, decideApproval, followRun, getRun, startRun } from "../api/runs";
import type { JsonSchema } from "../nodes/common";
import { FeedbackBox } from "../pages/runs/FeedbackBox";
import { isRunActive, type StepView } from "./store/runSlice";
import { useEditor, useEditorStore } from "./store";

const STATUS_TEXT: Record<string, string> = {
  queued: "Queued",
  running: "Running",
  waiting: "Waiting for approval",
  succeeded: "Succeeded",
  failed: "Failed",
  cancelled: "Cancelled",
  timed_out: "Timed out",
};

function sampleInput(schema: JsonSchema | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(schema?.properties ?? {})) {
    const t = Array.isArray(s.type) ? s.type[0] : s.type;
    out[k] = s.default ?? (t === "number" || t === "integer" ? 0 : t === "boolean" ? false : t === "object" ? {} : t === "array" ? [] : "");
  }
  return out;
}

export function RunPanel({ workflowId, save }: { workflowId: string; save: () => Promise<boolean> }) {
  const store = useEditorStore();
  const schema = useEditor((s) => {
    const start = s.nodes.find((n) => n.type === "start");
    return start?.type === "start" ? start.data.config.input_schema : undefined;
  });
  const run = useEditor(
    useShallow((s) => ({ runId: s.runId, status: s.runStatus, output: s.runOutput, error: s.runError, waiting: s.waiting, steps: s.steps })),
  );
  const [input, setInput] = useState<Record<string, unknown>>(() => sampleInput(schema));
  const [raw, setRaw] = useState(false);
  const [rawText, setRawText] = useState("");
  const [rawError, setRawError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [comment, setComment] = useState("");
  const stopRef = useRef<(() => void) | null>(null);

  const fields = useMemo(() => Object.entries(schema?.properties ?? {}), [schema]);
  // Step inputs are not in the events: read them from the run once it pauses or ends.
  useEffect(() => {
    if (!run.runId || (run.status !== "waiting" && isRunActive(run.status))) return;
    const id = run.runId;
    getRun(id)
      .then((r) => store.getState().mergeStepDetails(id, r.steps ?? []))
      .catch(() => undefined);
  }, [run.runId, run.status, store]);
  const required = new Set(schema?.required ?? []);
  useEffect(() => () => stopRef.current?.(), []);

  const begin = async () => {
    setError(null);
    let payload: unknown = input;
    if (raw) {
      try {
        payload = JSON.parse(rawText || "{}");
      } catch (e) {
        setRawError((e as Error).message);
        return;
      }
    }
    setBusy(true);
    try {
      if (!(await save())) {
        setError("Save the draft first (see the save state above).");
        return;
      }
      const created = await startRun(workflowId, payload, "draft");
      stopRef.current?.();
      store.getState().startRun(created.id);
      stopRef.current = followRun(
        created.id,
        () => store.getState().lastSeq,
        (ev) => store.getState().applyEvent(ev),
        () => !isRunActive(store.getState().runStatus),
      );
      // The socket replays from seq 0, but a run that finished before the socket opened is read once more.
      window.setTimeout(async () => {
        if (store.getState().runId === created.id && store.getState().lastSeq === 0) {
          try {
            const r = await getRun(created.id);
            if (store.getState().lastSeq === 0) store.setState({ runStatus: r.status });
          } catch {
            /* the socket will tell */
          }
        }
      }, 3000);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const decide = async (stepId: string, decision: "approved" | "rejected") => {
    if (!run.runId) return;
    setError(null);
    try {
      await decideApproval(run.runId, stepId, decision, comment);
      setComment("");
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  const active = isRunActive(run.status);
  return (
    <div className="run-panel">
      <section aria-label="Run input" className="run-input">
        <div className="row space">
          <h3>Input</h3>
          <div className="seg" role="tablist" aria-label="Input view">
            <button type="button" role="tab" aria-selected={!raw} className={!raw ? "active" : ""} onClick={() => setRaw(false)}>
              Form
            </button>
            <button
              type="button"
              role="tab"
              aria-selected={raw}
              className={raw ? "active" : ""}
              onClick={() => {
                setRawText(JSON.stringify(input, null, 2));
                setRaw(true);
              }}
            >
              JSON
            </button>
          </div>
        </div>
        {raw ? (
          <>
            <textarea className="code" rows={6} aria-label="Run input JSON" value={rawText} onChange={(e) => { setRawText(e.target.value); setRawError(null); }} />
            {rawError && <div className="field-error">{rawError}</div>}
          </>
        ) : fields.length === 0 ? (
          <p className="muted small-text">{schema ? "This workflow takes no input." : "Add a Start node to define the input."}</p>
        ) : (
          fields.map(([k, s]) => {
            const t = Array.isArray(s.type) ? s.type[0] : s.type;
            const label = `${s.title ?? k}${required.has(k) ? " *" : ""}`;
            return (
              <label key={k} className="field">
                <span className="field-label">{label}</span>
                {t === "boolean" ? (
                  <input type="checkbox" aria-label={k} checked={!!input[k]} onChange={(e) => setInput({ ...input, [k]: e.target.checked })} />
                ) : t === "number" || t === "integer" ? (
                  <input type="number" aria-label={k} value={String(input[k] ?? "")} onChange={(e) => setInput({ ...input, [k]: Number(e.target.value) })} />
                ) : t === "object" || t === "array" ? (
                  <textarea className="code" aria-label={k} defaultValue={JSON.stringify(input[k] ?? (t === "array" ? [] : {}))} onBlur={(e) => { try { setInput({ ...input, [k]: JSON.parse(e.target.value) }); } catch { /* keep */ } }} />
                ) : (
                  <textarea rows={2} aria-label={k} value={String(input[k] ?? "")} onChange={(e) => setInput({ ...input, [k]: e.target.value })} />
                )}
              </label>
            );
          })
        )}
        <div className="actions">
          {active ? (
            <button type="button" className="danger" onClick={() => run.runId && void cancelRun(run.runId).catch((e) => setError(errorMessage(e)))}>
              Cancel run
            </button>
          ) : (
            <button type="button" className="primary" onClick={() => void begin()} disabled={busy}>
              {busy ? "Starting…" : "▶ Run"}
            </button>
          )}
        </div>
        {error && <p className="field-error" role="alert">{error}</p>}
      </section>

      {run.runId && (
        <section aria-label="Run trace" className="run-trace">
          <div className={`run-status run-status-${run.status}`} role="status" data-testid="run-status">
            {/* A run parked by a timer (delay) waits for nothing a person can give. */}
            {run.status === "waiting" && !run.waiting.length ? "Waiting" : STATUS_TEXT[run.status ?? "queued"]}
          </div>
          {run.waiting.map((w) => (
            <div className="approval" role="group" aria-label={`Approval for ${w.nodeId}`} key={w.stepId}>
              <p>
                <strong>Approval needed</strong> at <code>{w.nodeId}</code>
              </p>
              {w.message && <p className="approval-msg">{w.message}</p>}
              <input aria-label="Comment" placeholder="Comment (optional)" value={comment} onChange={(e) => setComment(e.target.value)} />
              <div className="actions">
                <button type="button" className="primary" onClick={() => void decide(w.stepId, "approved")}>
                  Approve
                </button>
                <button type="button" className="danger" onClick={() => void decide(w.stepId, "rejected")}>
                  Reject
                </button>
              </div>
            </div>
          ))}
          <ol className="steps">
            {run.steps.map((st, i) => (
              <StepItem key={`${st.stepId}-${i}`} step={st} />
            ))}
          </ol>
          {run.status === "succeeded" && run.output !== undefined && (
            <div className="run-output">
              <h4>Output</h4>
              <pre className="code">{JSON.stringify(run.output, null, 2)}</pre>
              <FeedbackBox runId={run.runId} workflowId={workflowId} canEdit />
            </div>
          )}
          {run.error && <p className="field-error">{run.error}</p>}
        </section>
      )}
    </div>
  );
}

function StepItem({ step }: { step: StepView }) {
  const name = useEditor((s) => s.nodes.find((n) => n.id === step.nodeId)?.data.name ?? step.nodeId);
  const tokens = step.usage ? step.usage.total_tokens ?? ((step.usage.input_tokens ?? 0) + (step.usage.output_tokens ?? 0) || undefined) : undefined;
  const cost = step.usage?.cost_usd;
  return (
    <li className={`step step-${step.status}`}>
      <details open={step.status === "running" || !!step.text || step.status === "failed"}>
        <summary>
          <span className={`status-dot status-${step.status}`} aria-hidden />
          <span className="step-name">{name}</span>
          <span className="muted small-text">
            {step.status}
            {step.port && step.port !== "out" && ` → ${step.port}`}
            {typeof step.durationMs === "number" && ` · ${(step.durationMs / 1000).toFixed(2)} s`}
            {tokens !== undefined && ` · ${tokens} tok`}
            {step.usage?.price_unknown ? " · price unknown" : cost ? ` · $${cost.toFixed(4)}` : ""}
          </span>
        </summary>
        {step.text && (
          <div className="stream" aria-live="polite" data-testid={`stream-${step.nodeId}`}>
            {step.text}
          </div>
        )}
        {step.error && <p className="field-error">{step.error}</p>}
        {step.input !== undefined && (
          <>
            <h5>Input</h5>
            <pre className="code">{JSON.stringify(step.input, null, 2)}</pre>
          </>
        )}
        {step.output !== undefined && (
          <>
            <h5>Output</h5>
            <pre className="code">{JSON.stringify(step.output, null, 2)}</pre>
          </>
        )}
      </details>
    </li>
  );
}
