/**
 * Step timeline layout: one row per step in start order, a bar from its start to its end on a shared
 * time axis. Steps that overlap in time (parallel branches) are flagged, and waits (an approval step
 * still open) stay visible as long bars drawn up to now.
 */

export interface TimedStep {
  id: string;
  started_at: string | null;
  finished_at: string | null;
  status: string;
}

export interface TimelineBar<S extends TimedStep = TimedStep> {
  step: S;
  /** Offset from the run start and length, in ms. */
  startMs: number;
  endMs: number;
  /** Percentages of the axis, for CSS. */
  left: number;
  width: number;
  /** Row in start order. */
  row: number;
  /** Ran at the same time as another step (a parallel branch). */
  parallel: boolean;
  /** True while the step has no end yet (running or waiting): drawn up to `now`. */
  open: boolean;
}

export interface TimelineLayout<S extends TimedStep = TimedStep> {
  bars: TimelineBar<S>[];
  totalMs: number;
  originMs: number;
}

/** Bars narrower than this (in % of the axis) are widened so that instant steps stay visible. */
export const MIN_WIDTH_PCT = 0.8;

export function layoutTimeline<S extends TimedStep>(
  steps: S[],
  opts: { runStart?: string | null; runEnd?: string | null; now?: number } = {},
): TimelineLayout<S> {
  const now = opts.now ?? Date.now();
  const timed = steps.filter((s) => s.started_at);
  if (!timed.length) return { bars: [], totalMs: 0, originMs: 0 };
  const t = (iso: string) => new Date(iso).getTime();
  const starts = timed.map((s) => t(s.started_at!));
  const origin = Math.min(...starts, ...(opts.runStart ? [t(opts.runStart)] : []));
  const ends = timed.map((s) => (s.finished_at ? t(s.finished_at) : now));
  let last = Math.max(...ends, ...(opts.runEnd ? [t(opts.runEnd)] : []));
  if (last <= origin) last = origin + 1;
  const total = last - origin;

  const order = timed
    .map((s, i) => ({ s, start: starts[i] - origin, end: Math.max(ends[i], starts[i]) - origin }))
    .sort((a, b) => a.start - b.start || a.end - b.end);
  const bars: TimelineBar<S>[] = order.map(({ s, start, end }, row) => {
    const left = Math.min((start / total) * 100, 100 - MIN_WIDTH_PCT);
    const width = Math.min(Math.max(((end - start) / total) * 100, MIN_WIDTH_PCT), 100 - left);
    // Overlap is strict: a step that starts exactly when another ends ran after it, not beside it.
    const parallel = order.some((o, j) => j !== row && o.start < end && start < o.end);
    return { step: s, startMs: start, endMs: end, left, width, row, parallel, open: !s.finished_at };
  });
  return { bars, totalMs: total, originMs: origin };
}

/** Evenly spaced axis ticks (ms offsets) with round values. */
export function axisTicks(totalMs: number, count = 5): number[] {
  if (totalMs <= 0) return [0];
  const raw = totalMs / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = 0; v <= totalMs + 1e-9; v += step) ticks.push(v);
  return ticks;
}
