/** Money and window wording for budgets (pure: unit-tested in format.test.ts). */
import type { Budget } from "../../api/budgets";

export function usd(n: number): string {
  if (n === 0) return "$0.00";
  if (Math.abs(n) < 0.01) return `$${n.toFixed(6).replace(/0+$/, "").replace(/\.$/, "")}`;
  return `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** A cost that may be partly unknown: "$1.20 + price unknown", or "price unknown" when nothing is known. */
export function costWithUnknown(cost: number | null | undefined, unknown: boolean | number | undefined): string {
  if (!unknown) return usd(cost ?? 0);
  return cost ? `${usd(cost)} + price unknown` : "price unknown";
}

export function windowLabel(b: Budget): string {
  return b.window === "day" ? "today" : "this month";
}

export function percent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}

/** One sentence for the banner: what crossed which line. */
export function attentionText(b: Budget, label: string): string {
  if (b.current.exceeded_at) {
    return `${label} budget reached ${windowLabel(b)}: ${usd(b.current.spent_usd)} of ${usd(b.limit_usd)} spent, model calls that would cross it are refused.`;
  }
  return `${label} budget at ${percent(b.current.used_fraction)} ${windowLabel(b)} (${usd(b.current.spent_usd)} of ${usd(b.limit_usd)}; alert at ${percent(b.alert_at)}).`;
}
