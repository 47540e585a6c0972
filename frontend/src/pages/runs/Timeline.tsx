/** The step timeline: one row per step, a start/end bar on a shared axis; parallel steps marked, open ones striped. */
import type { RunDetail } from "../../api/screens";
import { STATUS_LABEL, formatDuration } from "../common/status";
import { axisTicks, layoutTimeline } from "./timeline";
import { isReused, stepLabel } from "./trace";

export function Timeline({
  run,
  names,
  selectedId,
  onSelect,
}: {
  run: RunDetail;
  names: Record<string, string>;
  selectedId: string | null;
  onSelect: (id: string) => void;
}) {
  const layout = layoutTimeline(run.steps, { runStart: run.started_at, runEnd: run.finished_at });
  if (!layout.bars.length) return <p className="muted">No step has started yet.</p>;
  return (
    <div className="timeline">
      <div className="tl-row tl-head" aria-hidden>
        <span className="tl-label" />
        <div className="timeline-axis">
          {axisTicks(layout.totalMs).map((t) => (
            <span key={t} style={{ left: `${(t / layout.totalMs) * 100}%` }}>
              {formatDuration(t)}
            </span>
          ))}
        </div>
      </div>
      <ul className="tl-rows" aria-label="Step timeline">
        {layout.bars.map((b) => {
          const label = stepLabel(b.step, names);
          const duration = formatDuration(b.endMs - b.startMs);
          const status = STATUS_LABEL[b.step.status] ?? b.step.status;
          const reused = isReused(b.step, run);
          return (
            <li
              key={b.step.id}
              aria-label={`${label}: ${status}, ${duration}${b.parallel ? ", in parallel" : ""}${reused ? ", reused from the earlier run" : ""}`}
              className={`tl-row${b.step.id === selectedId ? " tl-selected" : ""}`}
            >
              <button type="button" className="tl-label" onClick={() => onSelect(b.step.id)} title={label}>
                {label}
                {b.parallel && <span className="tl-par" title="Ran in parallel with another step">∥</span>}
                {reused && <span className="tl-reused" title="Result reused from the run this one reran">reused</span>}
              </button>
              <div className="tl-track" onClick={() => onSelect(b.step.id)}>
                <span
                  className={`tl-bar tl-${b.step.status}${b.open ? " tl-open" : ""}${reused ? " tl-is-reused" : ""}`}
                  style={{ left: `${b.left}%`, width: `${b.width}%` }}
                  title={`${label} — ${status}, ${duration}`}
                />
                <span className="tl-dur" style={{ left: `calc(${b.left + b.width}% + 6px)` }}>
                  {duration}
                </span>
              </div>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
