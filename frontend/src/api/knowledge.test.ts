import { describe, expect, it } from "vitest";
import { applyKnowledgeEvent, type FileProgress } from "./knowledge";

const ev = (status: FileProgress["status"], progress: number | null, error = ""): FileProgress => ({
  type: "file.progress",
  file_id: "f1",
  name: "a.txt",
  status,
  progress,
  error,
  chunks: null,
});

describe("applyKnowledgeEvent", () => {
  it("starts from a snapshot and follows a file to ready", () => {
    let live = applyKnowledgeEvent({}, { type: "snapshot", files: [{ file_id: "f0", name: "old.txt", status: "ready", error: "", chunks: 3 }] });
    expect(live.f0).toEqual({ status: "ready", progress: 1, error: "" });
    live = applyKnowledgeEvent(live, ev("queued", 0));
    live = applyKnowledgeEvent(live, ev("processing", 0.5));
    expect(live.f1).toEqual({ status: "processing", progress: 0.5, error: "" });
    live = applyKnowledgeEvent(live, ev("processing", 0.3)); // late: the bar does not go back
    expect(live.f1.progress).toBe(0.5);
    live = applyKnowledgeEvent(live, ev("ready", 1));
    expect(live.f1).toEqual({ status: "ready", progress: 1, error: "" });
    expect(live.f0.status).toBe("ready");
  });

  it("keeps the reason of a failure, and a re-index starts the bar again", () => {
    let live = applyKnowledgeEvent({}, ev("failed", null, "password-protected"));
    expect(live.f1).toEqual({ status: "failed", progress: null, error: "password-protected" });
    live = applyKnowledgeEvent(applyKnowledgeEvent(live, ev("ready", 1)), ev("queued", 0));
    expect(live.f1.progress).toBe(0);
  });
});
