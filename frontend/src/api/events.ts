/** Run events as the WebSocket sends them (DESIGN §6): one union, mirroring the backend's event types. */
import type { components } from "./schema";

export type RunStatus = components["schemas"]["RunOutStatusEnum"];

interface EventBase<T extends string, D> {
  seq: number;
  type: T;
  run_id: string;
  node_id: string | null;
  ts: string;
  data: D;
}

export interface Usage {
  input_tokens?: number;
  output_tokens?: number;
  total_tokens?: number;
  cost_usd?: number;
  [k: string]: unknown;
}

export type RunStatusEvent = EventBase<"run.status", { status: RunStatus }>;
export type StepStatus = components["schemas"]["StepOutStatusEnum"];

/** What step.finished / step.failed carry (runs/engine: `_finished_data`). */
export interface StepData {
  step_id?: string;
  node_type?: string;
  status?: StepStatus;
  attempt?: number;
  iteration?: number;
  port?: string | null;
  input?: unknown;
  output?: unknown;
  duration_ms?: number | null;
  usage?: Usage | null;
  error?: { code?: string; message?: string } | string | null;
  wait?: {
    message?: string;
    approvers?: string;
    timeout_at?: string;
    /** An agent's tool call waiting for a decision (agent tools with require_approval). */
    kind?: "tool_approval";
    tool?: string;
    server?: string | null;
    arguments?: unknown;
  } | null;
}

export type StepStartedEvent = EventBase<
  "step.started",
  { step_id?: string; node_type?: string; attempt?: number; iteration?: number; input?: unknown }
>;
/** Streamed text: coalesced and never persisted, so it has no seq. */
export type StepDeltaEvent = Omit<EventBase<"step.delta", { step_id?: string; text: string }>, "seq"> & { seq: number | null };
export type StepFinishedEvent = EventBase<"step.finished", StepData>;
export type StepFailedEvent = EventBase<"step.failed", StepData>;
export type RunWaitingEvent = EventBase<
  "run.waiting",
  { steps?: { step_id: string; node_id: string; wait?: StepData["wait"] }[] }
>;
export type RunFinishedEvent = EventBase<
  "run.finished",
  { status: RunStatus; output?: unknown; error?: { code?: string; message?: string } | string | null }
>;

export type RunEvent =
  | RunStatusEvent
  | StepStartedEvent
  | StepDeltaEvent
  | StepFinishedEvent
  | StepFailedEvent
  | RunWaitingEvent
  | RunFinishedEvent;

export const TERMINAL: ReadonlySet<RunStatus> = new Set(["succeeded", "failed", "cancelled", "timed_out"]);
