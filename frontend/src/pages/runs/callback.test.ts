import { describe, expect, it } from "vitest";
import type { RunCallback } from "../../api/screens";
import { callbackSummary } from "./callback";

const base: RunCallback = {
  url: "https://hooks.example.com/in",
  source: "run",
  state: "pending",
  attempts: 0,
  max_attempts: 6,
  last_status_code: null,
  last_error: null,
  next_attempt_at: null,
  updated_at: null,
};
const iso = (s: string) => s;

describe("callbackSummary", () => {
  it("says a callback of a run still going is sent when it finishes", () => {
    expect(callbackSummary(base, iso)).toEqual({ tone: "pending", text: "Sent when the run finishes", detail: null });
  });

  it("reports a delivery with its status and attempts", () => {
    const cb = { ...base, state: "delivered" as const, attempts: 1, last_status_code: 204 };
    expect(callbackSummary(cb, iso)).toEqual({ tone: "ok", text: "Delivered (204) after 1 attempt", detail: null });
  });

  it("reports a failed attempt with the time of the next one and why it failed", () => {
    const cb = { ...base, attempts: 2, last_status_code: 500, last_error: "The callback URL answered 500.", next_attempt_at: "2026-01-01T10:00:00Z" };
    expect(callbackSummary(cb, iso)).toEqual({
      tone: "pending",
      text: "Attempt 2 of 6 failed; next attempt at 2026-01-01T10:00:00Z",
      detail: "The callback URL answered 500.",
    });
  });

  it("reports giving up after the last attempt", () => {
    const cb = { ...base, state: "failed" as const, attempts: 6, last_status_code: 503 };
    expect(callbackSummary(cb, iso)).toEqual({ tone: "error", text: "Failed after 6 attempts", detail: "Answered 503." });
  });
});
