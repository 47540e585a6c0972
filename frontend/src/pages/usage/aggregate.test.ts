import { describe, expect, it } from "vitest";
import type { RunSummary } from "../../api/screens";
import { aggregateRuns, dayRange, fillDays } from "./aggregate";

const run = (id: string, day: string, workflow: string, status: RunSummary["status"], tokens: [number, number], cost: number): RunSummary => ({
  id,
  workflow,
  version: 1,
  is_draft: false,
  status,
  input: {},
  output: null,
  error: null,
  trigger: { type: "api" },
  created_at: `${day}T10:00:00Z`,
  started_at: null,
  finished_at: null,
  usage: { input_tokens: tokens[0], output_tokens: tokens[1], cost_usd: cost },
  last_seq: 0,
});

const now = new Date("2026-03-10T12:00:00Z");

describe("aggregateRuns", () => {
  it("sums tokens and cost per day and per workflow, and counts statuses per day", () => {
    const report = aggregateRuns(
      [
        run("a", "2026-03-10", "w1", "succeeded", [10, 5], 0.1),
        run("b", "2026-03-10", "w2", "failed", [1, 1], 0.2),
        run("c", "2026-03-09", "w1", "succeeded", [100, 50], 0.3),
        run("old", "2026-01-01", "w1", "succeeded", [999, 999], 9),
      ],
      { days: 7, now, workflowNames: { w1: "Triage" } },
    );
    expect(report.per_day).toEqual([
      { key: "2026-03-09", label: undefined, runs: 1, input_tokens: 100, output_tokens: 50, cost_usd: 0.3 },
      { key: "2026-03-10", label: undefined, runs: 2, input_tokens: 11, output_tokens: 6, cost_usd: 0.3 },
    ]);
    expect(report.per_workflow.map((r) => [r.key, r.label, r.runs, r.cost_usd])).toEqual([
      ["w1", "Triage", 2, 0.4],
      ["w2", undefined, 1, 0.2],
    ]);
    expect(report.status_by_day).toEqual([
      { day: "2026-03-09", counts: { succeeded: 1 } },
      { day: "2026-03-10", counts: { succeeded: 1, failed: 1 } },
    ]);
    expect(report.source).toBe("runs");
    expect(report.per_model).toEqual([]);
  });
});

describe("days", () => {
  it("lists the last N days ending today", () => {
    expect(dayRange(3, now)).toEqual(["2026-03-08", "2026-03-09", "2026-03-10"]);
  });

  it("fills missing days with zeros", () => {
    const filled = fillDays([{ key: "2026-03-09", runs: 2, input_tokens: 1, output_tokens: 1, cost_usd: 1 }], dayRange(3, now));
    expect(filled.map((r) => [r.key, r.runs])).toEqual([
      ["2026-03-08", 0],
      ["2026-03-09", 2],
      ["2026-03-10", 0],
    ]);
  });
});
