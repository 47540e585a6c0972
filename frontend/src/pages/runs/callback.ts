/** The run detail's "Callback" line: what happened to the POST of the finished run to its callback URL. */
import type { RunCallback } from "../../api/screens";

export type CallbackTone = "ok" | "error" | "pending";

export interface CallbackSummary {
  tone: CallbackTone;
  text: string;
  /** The last attempt's answer or error, when it failed. */
  detail: string | null;
}

const attemptsLabel = (n: number) => `${n} attempt${n === 1 ? "" : "s"}`;

function lastFailure(cb: RunCallback): string | null {
  if (cb.last_error) return cb.last_error;
  return cb.last_status_code != null && (cb.last_status_code < 200 || cb.last_status_code >= 300)
    ? `Answered ${cb.last_status_code}.`
    : null;
}

export function callbackSummary(
  cb: RunCallback,
  formatTime: (iso: string) => string = (iso) => new Date(iso).toLocaleString(),
): CallbackSummary {
  if (cb.state === "delivered") {
    const answer = cb.last_status_code != null ? ` (${cb.last_status_code})` : "";
    return { tone: "ok", text: `Delivered${answer} after ${attemptsLabel(cb.attempts)}`, detail: null };
  }
  if (cb.state === "failed") {
    return { tone: "error", text: `Failed after ${attemptsLabel(cb.attempts)}`, detail: lastFailure(cb) };
  }
  if (cb.attempts === 0 && !cb.next_attempt_at) {
    return { tone: "pending", text: "Sent when the run finishes", detail: null };
  }
  if (cb.attempts === 0) return { tone: "pending", text: "Sending…", detail: null };
  const next = cb.next_attempt_at ? `next attempt at ${formatTime(cb.next_attempt_at)}` : "next attempt soon";
  return {
    tone: "pending",
    text: `Attempt ${cb.attempts} of ${cb.max_attempts} failed; ${next}`,
    detail: lastFailure(cb),
  };
}
