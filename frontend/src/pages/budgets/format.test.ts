import { describe, expect, it } from "vitest";
import type { Budget } from "../../api/budgets";
import { attentionText, costWithUnknown, usd } from "./format";

const budget = (over: Partial<Budget["current"]> = {}): Budget => ({
  id: "b1",
  scope: "workspace",
  target_id: "",
  target_name: null,
  window: "month",
  limit_usd: 50,
  alert_at: 0.8,
  alert_webhook_url: "",
  current: {
    window_start: "2026-12-01T00:00:00Z",
    window_end: "2027-01-01T00:00:00Z",
    spent_usd: 42,
    reserved_usd: 0,
    left_usd: 8,
    used_fraction: 0.84,
    forecast_usd: 61.5,
    forecast_exceeds: true,
    alerted_at: "2026-12-06T01:00:00Z",
    exceeded_at: null,
    alert_delivery: null,
    ...over,
  },
});

describe("budget wording", () => {
  it("formats small and large amounts", () => {
    expect(usd(0)).toBe("$0.00");
    expect(usd(0.000125)).toBe("$0.000125");
    expect(usd(1234.5)).toBe("$1,234.50");
  });

  it("never shows an unknown price as $0", () => {
    expect(costWithUnknown(0, true)).toBe("price unknown");
    expect(costWithUnknown(1.2, 1)).toBe("$1.20 + price unknown");
    expect(costWithUnknown(0, false)).toBe("$0.00");
  });

  it("says whether the alert fired or the limit stopped calls", () => {
    expect(attentionText(budget(), "Workspace")).toBe(
      "Workspace budget at 84% this month ($42.00 of $50.00; alert at 80%).",
    );
    expect(attentionText(budget({ exceeded_at: "2026-12-06T02:00:00Z", spent_usd: 50 }), "Workspace")).toBe(
      "Workspace budget reached this month: $50.00 of $50.00 spent, model calls that would cross it are refused.",
    );
  });
});
