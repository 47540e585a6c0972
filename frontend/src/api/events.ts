/** Run events as the WebSocket sends them (DESIGN §6): one union, mirroring the backend's event types. */

export type RunStatus = "queued" | "running" | "waiting" | "succeeded" | "failed" | "cancelled" | "timed_out";

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
  cost?: number | string;
  [k: string]: unknown;
}

export type RunStatusEvent = EventBase<"run.status", { status: RunStatus }>;
export type StepStartedEvent = EventBase<
  "step.started",
  { step_id?: string; attempt?: number; iteration?: number; input?: unknown }
>;
export type StepDeltaEvent = EventBase<"step.delta", { step_id?: string; text: string }>;
export type StepFinishedEvent = EventBase<
  "step.finished",
  { step_id?: string; output?: unknown; port?: string; status?: string; usage?: Usage; duration_ms?: number; cost?: number | string }
>;
export type StepFailedEvent = EventBase<
  "step.failed",
  { step_id?: string; error?: { code?: string; message?: string } | string; duration_ms?: number; will_retry?: boolean }
>;
export type RunWaitingEvent = EventBase<"run.waiting", { step_id?: string; message?: string; [k: string]: unknown }>;
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
