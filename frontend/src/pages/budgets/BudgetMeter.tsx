/** Spend against one budget in its current window: a bar with the alert line and the forecast marker. */
import type { Budget } from "../../api/budgets";
import { budgetLabel } from "../../api/budgets";
import { percent, usd, windowLabel } from "./format";
import "./budgets.css";

export default function BudgetMeter({ budget }: { budget: Budget }) {
  const c = budget.current;
  const limit = budget.limit_usd || 1e-9;
  const scale = Math.max(limit, c.forecast_usd, c.spent_usd + c.reserved_usd);
  const pct = (n: number) => `${Math.min(100, (n / scale) * 100).toFixed(2)}%`;
  const state = c.exceeded_at || c.spent_usd >= limit ? "over" : c.used_fraction >= budget.alert_at ? "warn" : "ok";
  // The window ends at the next midnight: its last day is the one before.
  const lastDay = new Date(new Date(c.window_end).getTime() - 1000);
  return (
    <div className="budget-meter" aria-label={`Budget ${budgetLabel(budget)}`}>
      <div className="budget-meter-head">
        <b>{budgetLabel(budget)}</b>
        <span className="muted">
          {usd(c.spent_usd)} of {usd(budget.limit_usd)} {windowLabel(budget)} · {percent(c.used_fraction)}
        </span>
      </div>
      <div className="budget-track" role="img" aria-label={`${usd(c.spent_usd)} spent of ${usd(budget.limit_usd)}, forecast ${usd(c.forecast_usd)}`}>
        <div className={`budget-fill ${state}`} style={{ width: pct(c.spent_usd) }} />
        {c.reserved_usd > 0 && <div className="budget-reserved" style={{ left: pct(c.spent_usd), width: pct(c.reserved_usd) }} />}
        <div className="budget-limit" style={{ left: pct(limit) }} title="limit" />
        <div className="budget-alert-line" style={{ left: pct(limit * budget.alert_at) }} title={`alert at ${percent(budget.alert_at)}`} />
        <div className={c.forecast_exceeds ? "budget-forecast over" : "budget-forecast"} style={{ left: pct(c.forecast_usd) }} title="forecast" />
      </div>
      <div className="budget-meter-foot small-text">
        <span className={c.forecast_exceeds ? "forecast-text over" : "forecast-text"}>
          Forecast: {usd(c.forecast_usd)} by the end of {lastDay.toLocaleDateString(undefined, { month: "short", day: "numeric" })}
          {c.forecast_exceeds ? " — over the limit at the recent rate" : " at the recent rate"}
        </span>
        <span className="muted">
          {usd(c.left_usd)} left{c.reserved_usd > 0 ? ` · ${usd(c.reserved_usd)} held by calls in flight` : ""}
        </span>
      </div>
    </div>
  );
}
