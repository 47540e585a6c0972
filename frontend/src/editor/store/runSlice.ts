/** Run slice: the test run the editor follows — per-node status, streamed text and step details. */
import { TERMINAL, type RunEvent, type RunStatus, type StepData, type StepStatus, type Usage } from "../../api/events";
import type { EditorSlice } from "./types";

export interface StepView {
  stepId: string;
  nodeId: string;
  status: StepStatus;
  attempt?: number;
  iteration?: number;
  port?: string | null;
  input?: unknown;
  output?: unknown;
  error?: string;
  text: string;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number | null;
  usage?: Usage | null;
}

export interface WaitingStep {
  stepId: string;
  nodeId: string;
  message: string;
}

export interface RunSlice {
  runId: string | null;
  runStatus: RunStatus | null;
  runOutput: unknown;
  runError: string | null;
  lastSeq: number;
  nodeStatus: Record<string, StepStatus>;
  steps: StepView[];
  waiting: WaitingStep[];
  startRun: (runId: string) => void;
  applyEvent: (event: RunEvent) => void;
  /** Adds what events do not carry (each step's input) from the run detail. */
  mergeStepDetails: (runId: string, steps: { id: string; node_id: string; input?: unknown }[]) => void;
  clearRun: () => void;
}

/** A wait that only its time ends (a `delay`): nothing to decide, so no approval box. */
const isTimer = (wait: unknown): boolean => !!wait && typeof wait === "object" && "on_timeout" in wait;

export const errorText = (e: unknown): string =>
  typeof e === "string" ? e : e && typeof e === "object" ? String((e as { message?: string }).message ?? JSON.stringify(e)) : "";

const initial = {
  runId: null,
  runStatus: null,
  runOutput: undefined,
  runError: null,
  lastSeq: 0,
  nodeStatus: {},
  steps: [],
  waiting: [],
};

function upsert(steps: StepView[], stepId: string, nodeId: string, patch: Partial<StepView>): StepView[] {
  const i = steps.findIndex((s) => s.stepId === stepId);
  if (i < 0) return [...steps, { stepId, nodeId, status: "running", text: "", ...patch }];
  const next = steps.slice();
  next[i] = { ...next[i], ...patch };
  return next;
}

function finishedPatch(d: StepData, ts: string): Partial<StepView> {
  return {
    status: d.status ?? "succeeded",
    attempt: d.attempt,
    iteration: d.iteration,
    port: d.port,
    output: d.output,
    usage: d.usage,
    durationMs: d.duration_ms,
    finishedAt: ts,
    ...(d.input !== undefined ? { input: d.input } : {}),
    ...(d.error ? { error: errorText(d.error) } : {}),
  };
}

export const createRunSlice: EditorSlice<RunSlice> = (set, get) => ({
  ...initial,

  startRun: (runId) => set({ ...initial, runId, runStatus: "queued" }),
  clearRun: () => set({ ...initial }),

  mergeStepDetails: (runId, details) => {
    if (runId !== get().runId) return;
    const byId = new Map(details.map((d) => [d.id, d]));
    set({
      steps: get().steps.map((st) => {
        const d = byId.get(st.stepId);
        return d && d.input !== undefined && st.input === undefined ? { ...st, input: d.input } : st;
      }),
    });
  },

  applyEvent: (ev) => {
    const s = get();
    if (ev.run_id !== s.runId) return;
    if (ev.type === "step.delta") {
      const stepId = ev.data.step_id ?? String(ev.node_id);
      const prev = s.steps.find((x) => x.stepId === stepId);
      set({ steps: upsert(s.steps, stepId, ev.node_id ?? "", { text: (prev?.text ?? "") + (ev.data.text ?? "") }) });
      return;
    }
    // Persisted events carry a seq; a replay after reconnecting may repeat some.
    if (ev.seq === null || ev.seq <= s.lastSeq) return;
    const nodeId = ev.node_id ?? "";
    const withNode = (status: StepStatus) => (ev.node_id ? { ...s.nodeStatus, [ev.node_id]: status } : s.nodeStatus);
    switch (ev.type) {
      case "run.status":
        set({ lastSeq: ev.seq, runStatus: ev.data.status, ...(ev.data.status === "running" ? { waiting: [] } : {}) });
        break;
      case "step.started": {
        const stepId = ev.data.step_id ?? nodeId;
        const prev = s.steps.find((x) => x.stepId === stepId);
        set({
          lastSeq: ev.seq,
          nodeStatus: withNode("running"),
          steps: upsert(s.steps, stepId, nodeId, {
            status: "running",
            attempt: ev.data.attempt,
            iteration: ev.data.iteration,
            startedAt: ev.ts,
            text: prev?.text ?? "",
          }),
        });
        break;
      }
      case "step.finished":
      case "step.failed": {
        const patch = finishedPatch(ev.data, ev.ts);
        if (ev.type === "step.failed") patch.status = "failed";
        const stepId = ev.data.step_id ?? nodeId;
        const waiting =
          patch.status === "waiting" && !isTimer(ev.data.wait)
            ? [...s.waiting.filter((w) => w.stepId !== stepId), { stepId, nodeId, message: String(ev.data.wait?.message ?? "") }]
            : s.waiting.filter((w) => w.stepId !== stepId);
        set({ lastSeq: ev.seq, nodeStatus: withNode(patch.status!), steps: upsert(s.steps, stepId, nodeId, patch), waiting });
        break;
      }
      case "run.waiting": {
        const waiting = [...s.waiting];
        const nodeStatus = { ...s.nodeStatus };
        for (const w of ev.data.steps ?? []) {
          if (!isTimer(w.wait) && !waiting.some((x) => x.stepId === w.step_id))
            waiting.push({ stepId: w.step_id, nodeId: w.node_id, message: String(w.wait?.message ?? "") });
          nodeStatus[w.node_id] = "waiting";
        }
        set({ lastSeq: ev.seq, runStatus: "waiting", waiting, nodeStatus });
        break;
      }
      case "run.finished": {
        const ns = { ...s.nodeStatus };
        for (const [id, st] of Object.entries(ns)) if (st === "running" || st === "waiting") ns[id] = "cancelled";
        if (ev.data.status === "succeeded") for (const n of s.nodes) if (!ns[n.id] && n.type !== "note") ns[n.id] = "skipped";
        set({
          lastSeq: ev.seq,
          runStatus: ev.data.status,
          runOutput: ev.data.output,
          runError: ev.data.error ? errorText(ev.data.error) : null,
          nodeStatus: ns,
          waiting: [],
        });
        break;
      }
    }
  },
});

export const isRunActive = (status: RunStatus | null) => !!status && !TERMINAL.has(status);
