import { describe, expect, it } from "vitest";
import { axisTicks, layoutTimeline, MIN_WIDTH_PCT } from "./timeline";

const at = (ms: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, 0) + ms).toISOString();
const step = (id: string, start: number, end: number | null, status = "succeeded") => ({
  id,
  started_at: at(start),
  finished_at: end === null ? null : at(end),
  status,
});

describe("layoutTimeline", () => {
  it("gives each step a row in start order with a bar proportional to its duration", () => {
    const { bars, totalMs } = layoutTimeline([step("b", 100, 400), step("a", 0, 100)]);
    expect(totalMs).toBe(400);
    expect(bars.map((b) => [b.step.id, b.row, b.left, b.width, b.parallel])).toEqual([
      ["a", 0, 0, 25, false],
      ["b", 1, 25, 75, false],
    ]);
  });

  it("flags steps that ran at the same time (parallel branches)", () => {
    const { bars } = layoutTimeline([step("a", 0, 300), step("b", 50, 200), step("c", 300, 400)]);
    expect(Object.fromEntries(bars.map((b) => [b.step.id, b.parallel]))).toEqual({ a: true, b: true, c: false });
  });

  it("draws an open (waiting) step up to now and marks it open", () => {
    const now = new Date(at(1000)).getTime();
    const { bars, totalMs } = layoutTimeline([step("a", 0, 100), step("wait", 100, null, "waiting")], { now });
    expect(totalMs).toBe(1000);
    const wait = bars.find((b) => b.step.id === "wait")!;
    expect(wait.open).toBe(true);
    expect(wait.left).toBe(10);
    expect(wait.width).toBe(90);
  });

  it("keeps instant steps visible and ignores steps that never started", () => {
    const { bars } = layoutTimeline([step("a", 0, 0), step("b", 0, 1000), { id: "c", started_at: null, finished_at: null, status: "skipped" }]);
    expect(bars.map((b) => b.step.id)).toEqual(["a", "b"]);
    expect(bars[0].width).toBe(MIN_WIDTH_PCT);
  });

  it("measures from the run start when the run started before its first step", () => {
    const { bars } = layoutTimeline([step("a", 500, 1000)], { runStart: at(0) });
    expect(bars[0].left).toBe(50);
  });

  it("returns an empty layout for no steps", () => {
    expect(layoutTimeline([])).toEqual({ bars: [], totalMs: 0, originMs: 0 });
  });
});

describe("axisTicks", () => {
  it("picks round steps", () => {
    expect(axisTicks(1000)).toEqual([0, 200, 400, 600, 800, 1000]);
    expect(axisTicks(0)).toEqual([0]);
  });
});
