import { describe, expect, it } from "vitest";
import type { StepRecord } from "../../api/screens";
import { focusStep, isReused, nodeStatuses, stepLabel } from "./trace";

const s = (id: string, node_id: string, status: StepRecord["status"], extra: Partial<StepRecord> = {}): StepRecord => ({
  id,
  node_id,
  node_type: "transform",
  attempt: 1,
  iteration: 0,
  status,
  input: null,
  output: null,
  error: null,
  port: null,
  wait: null,
  started_at: null,
  finished_at: null,
  duration_ms: null,
  usage: null,
  ...extra,
});

describe("trace", () => {
  it("colours each node by its latest step", () => {
    expect(nodeStatuses([s("1", "a", "failed"), s("2", "a", "succeeded"), s("3", "b", "running")])).toEqual({ a: "succeeded", b: "running" });
  });

  it("opens the failing step first, then the run error's node, then a waiting step", () => {
    expect(focusStep({ steps: [s("1", "a", "succeeded"), s("2", "b", "failed")], error: null })?.id).toBe("2");
    expect(focusStep({ steps: [s("1", "a", "succeeded"), s("2", "b", "cancelled")], error: { node_id: "b" } })?.id).toBe("2");
    expect(focusStep({ steps: [s("1", "a", "succeeded"), s("2", "w", "waiting")], error: null })?.id).toBe("2");
    expect(focusStep({ steps: [s("1", "a", "succeeded")], error: null })).toBeUndefined();
  });

  it("names a step with its iteration and attempt", () => {
    expect(stepLabel(s("1", "a", "failed", { attempt: 2, iteration: 3 }), { a: "Fetch" })).toBe("Fetch (iteration 3, attempt 2)");
    expect(stepLabel(s("1", "a", "failed"), {})).toBe("a");
  });
});

describe("isReused", () => {
  it("marks steps a rerun-from-step copied from the earlier run", () => {
    const run = { created_at: "2026-01-01T10:00:00Z", trigger: { type: "rerun", from_step: "x" } };
    expect(isReused(s("1", "a", "succeeded", { started_at: "2026-01-01T09:59:00Z" }), run)).toBe(true);
    expect(isReused(s("2", "b", "succeeded", { started_at: "2026-01-01T10:00:01Z" }), run)).toBe(false);
    expect(isReused(s("1", "a", "succeeded", { started_at: "2026-01-01T09:59:00Z" }), { ...run, trigger: { type: "rerun" } })).toBe(false);
  });
});
