/** Run slice: the test run the editor follows — per-node status, streamed text and step details. */
import { TERMINAL, type RunEvent, type RunStatus, type Usage } from "../../api/events";
import type { EditorSlice } from "./types";

export type NodeRunStatus = "running" | "succeeded" | "failed" | "skipped" | "waiting";

export interface StepView {
  stepId: string;
  nodeId: string;
  status: NodeRunStatus;
  attempt?: number;
  input?: unknown;
  output?: unknown;
  error?: string;
  text: string;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  usage?: Usage;
  cost?: number | string;
}

export interface RunSlice {
  runId: string | null;
  runStatus: RunStatus | null;
  runOutput: unknown;
  runError: string | null;
  lastSeq: number;
  nodeStatus: Record<string, NodeRunStatus>;
  steps: StepView[];
  waiting: { stepId: string; nodeId: string; message: string } | null;
  startRun: (runId: string) => void;
  applyEvent: (event: RunEvent) => void;
  clearRun: () => void;
}

const errorText = (e: unknown): string =>
  typeof e === "string" ? e : e && typeof e === "object" ? String((e as { message?: string }).message ?? JSON.stringify(e)) : "";

const initial = {
  runId: null,
  runStatus: null,
  runOutput: undefined,
  runError: null,
  lastSeq: 0,
  nodeStatus: {},
  steps: [],
  waiting: null,
};

export const createRunSlice: EditorSlice<RunSlice> = (set, get) => ({
  ...initial,

  startRun: (runId) => set({ ...initial, runId, runStatus: "queued" }),
  clearRun: () => set({ ...initial }),

  applyEvent: (ev) => {
    const s = get();
    if (ev.run_id !== s.runId || ev.seq <= s.lastSeq) return;
    const stepKey = (ev.data as { step_id?: string }).step_id ?? `${ev.node_id}`;
    const updateStep = (patch: Partial<StepView>) => {
      const steps = [...s.steps];
      let i = -1;
      for (let j = steps.length - 1; j >= 0; j--)
        if (steps[j].stepId === stepKey) {
          i = j;
          break;
        }
      if (i < 0) steps.push({ stepId: stepKey, nodeId: ev.node_id ?? "", status: "running", text: "", ...patch });
      else steps[i] = { ...steps[i], ...patch };
      return steps;
    };
    const nodeStatus = (status: NodeRunStatus) => (ev.node_id ? { ...s.nodeStatus, [ev.node_id]: status } : s.nodeStatus);
    switch (ev.type) {
      case "run.status":
        set({ lastSeq: ev.seq, runStatus: ev.data.status, ...(ev.data.status === "running" ? { waiting: null } : {}) });
        break;
      case "step.started":
        set({
          lastSeq: ev.seq,
          nodeStatus: nodeStatus("running"),
          steps: updateStep({ status: "running", attempt: ev.data.attempt, input: ev.data.input, startedAt: ev.ts, text: "" }),
        });
        break;
      case "step.delta": {
        const steps = s.steps.map((st, idx, arr) =>
          st.stepId === stepKey && idx === arr.map((x) => x.stepId).lastIndexOf(stepKey) ? { ...st, text: st.text + (ev.data.text ?? "") } : st,
        );
        set({ lastSeq: ev.seq, steps: steps.some((x) => x.stepId === stepKey) ? steps : updateStep({ text: ev.data.text ?? "" }) });
        break;
      }
      case "step.finished": {
        const status: NodeRunStatus = ev.data.status === "skipped" ? "skipped" : "succeeded";
        set({
          lastSeq: ev.seq,
          nodeStatus: nodeStatus(status),
          steps: updateStep({
            status,
            output: ev.data.output,
            usage: ev.data.usage,
            durationMs: ev.data.duration_ms,
            cost: ev.data.cost ?? ev.data.usage?.cost,
            finishedAt: ev.ts,
          }),
        });
        break;
      }
      case "step.failed":
        set({
          lastSeq: ev.seq,
          nodeStatus: nodeStatus("failed"),
          steps: updateStep({ status: "failed", error: errorText(ev.data.error), durationMs: ev.data.duration_ms, finishedAt: ev.ts }),
        });
        break;
      case "run.waiting":
        set({
          lastSeq: ev.seq,
          runStatus: "waiting",
          nodeStatus: nodeStatus("waiting"),
          steps: updateStep({ status: "waiting" }),
          waiting: { stepId: stepKey, nodeId: ev.node_id ?? "", message: String(ev.data.message ?? "") },
        });
        break;
      case "run.finished": {
        const ns = { ...s.nodeStatus };
        for (const [id, st] of Object.entries(ns)) if (st === "running" || st === "waiting") ns[id] = "failed";
        if (ev.data.status === "succeeded") for (const n of s.nodes) if (!ns[n.id] && n.type !== "note") ns[n.id] = "skipped";
        set({
          lastSeq: ev.seq,
          runStatus: ev.data.status,
          runOutput: ev.data.output,
          runError: ev.data.error ? errorText(ev.data.error) : null,
          nodeStatus: ns,
          waiting: null,
        });
        break;
      }
    }
  },
});

export const isRunActive = (status: RunStatus | null) => !!status && !TERMINAL.has(status);
