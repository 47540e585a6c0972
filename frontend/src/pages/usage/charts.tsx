/** Small SVG bar charts (no chart library: two charts do not justify one). */

export interface Series {
  key: string;
  label: string;
  color: string;
}

export function StackedBars({
  days,
  series,
  values,
  label,
  format = (n) => n.toLocaleString(),
}: {
  days: string[];
  series: Series[];
  /** day → series key → value */
  values: Record<string, Record<string, number>>;
  label: string;
  format?: (n: number) => string;
}) {
  const W = 720;
  const H = 150;
  const pad = { l: 44, r: 8, t: 8, b: 22 };
  const totals = days.map((d) => series.reduce((s, x) => s + (values[d]?.[x.key] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const bw = (W - pad.l - pad.r) / Math.max(1, days.length);
  const y = (v: number) => pad.t + (H - pad.t - pad.b) * (1 - v / max);
  const labelEvery = Math.ceil(days.length / 8);
  return (
    <figure className="chart" aria-label={label}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label}>
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line x1={pad.l} x2={W - pad.r} y1={y(max * f)} y2={y(max * f)} stroke="#eef0f3" />
            <text x={pad.l - 6} y={y(max * f) + 4} textAnchor="end" fontSize="10" fill="#6b6f7b">
              {format(max * f)}
            </text>
          </g>
        ))}
        {days.map((d, i) => {
          let acc = 0;
          return (
            <g key={d}>
              <title>
                {d}: {series.map((s) => `${s.label} ${format(values[d]?.[s.key] ?? 0)}`).join(", ")}
              </title>
              {series.map((s) => {
                const v = values[d]?.[s.key] ?? 0;
                if (!v) return null;
                const top = y(acc + v);
                const h = y(acc) - top;
                acc += v;
                return <rect key={s.key} x={pad.l + i * bw + bw * 0.15} width={bw * 0.7} y={top} height={Math.max(h, 0.5)} fill={s.color} rx={1.5} />;
              })}
              {i % labelEvery === 0 && (
                <text x={pad.l + i * bw + bw / 2} y={H - 6} textAnchor="middle" fontSize="10" fill="#6b6f7b">
                  {d.slice(5)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption className="chart-legend">
        <strong>{label}</strong>
        {series.map((s) => (
          <span key={s.key}>
            <i style={{ background: s.color }} />
            {s.label}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
