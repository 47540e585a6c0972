/** Reading a run's steps: the status to draw on each node, the step that failed, token totals. */
import type { StepStatus } from "../../api/events";
import type { RunDetail, StepRecord } from "../../api/screens";

/** The latest step of each node decides its colour (a retried node that finally succeeded is green). */
export function nodeStatuses(steps: StepRecord[]): Record<string, StepStatus> {
  const out: Record<string, StepStatus> = {};
  for (const s of steps) out[s.node_id] = s.status;
  return out;
}

/** The step to open first: the failing one, else a waiting one, else none. */
export function focusStep(run: Pick<RunDetail, "steps" | "error">): StepRecord | undefined {
  const failed = [...run.steps].reverse().find((s) => s.status === "failed");
  if (failed) return failed;
  const errNode = run.error && typeof run.error === "object" ? run.error.node_id : undefined;
  if (errNode) {
    const byNode = [...run.steps].reverse().find((s) => s.node_id === errNode);
    if (byNode) return byNode;
  }
  return run.steps.find((s) => s.status === "waiting");
}

export function stepLabel(s: StepRecord, names: Record<string, string>): string {
  const name = names[s.node_id] ?? s.node_id;
  const extra = [s.iteration ? `iteration ${s.iteration}` : "", s.attempt > 1 ? `attempt ${s.attempt}` : ""].filter(Boolean);
  return extra.length ? `${name} (${extra.join(", ")})` : name;
}

/** Steps a "rerun from a step" copied from the earlier run: they started before this run was created. */
export function isReused(step: Pick<StepRecord, "started_at">, run: Pick<RunDetail, "created_at" | "trigger">): boolean {
  return !!run.trigger?.from_step && !!step.started_at && step.started_at < run.created_at;
}
