/**
 * Step timeline layout: one bar per step from its start to its end on a shared time axis, packed into
 * lanes so that steps that overlap in time (parallel branches) sit on separate rows, and waits (an
 * approval step still open, or the gap while a run waited) stay visible as long bars.
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
  lane: number;
  /** True while the step has no end yet (running or waiting): drawn up to `now`. */
  open: boolean;
}

export interface TimelineLayout<S extends TimedStep = TimedStep> {
  bars: TimelineBar<S>[];
  lanes: number;
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
  if (!timed.length) return { bars: [], lanes: 0, totalMs: 0, originMs: 0 };
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
  // Greedy interval partitioning: the first lane whose last bar ended by this bar's start.
  const laneEnds: number[] = [];
  const bars: TimelineBar<S>[] = order.map(({ s, start, end }) => {
    let lane = laneEnds.findIndex((e) => e <= start);
    if (lane < 0) {
      lane = laneEnds.length;
      laneEnds.push(end);
    } else laneEnds[lane] = end;
    const left = (start / total) * 100;
    const width = Math.max(((end - start) / total) * 100, MIN_WIDTH_PCT);
    return { step: s, startMs: start, endMs: end, left: Math.min(left, 100 - MIN_WIDTH_PCT), width: Math.min(width, 100 - Math.min(left, 100 - MIN_WIDTH_PCT)), lane, open: !s.finished_at };
  });
  return { bars, lanes: laneEnds.length, totalMs: total, originMs: origin };
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
