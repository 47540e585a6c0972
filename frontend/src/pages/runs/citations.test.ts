import { describe, expect, it } from "vitest";
import type { StepRecord } from "../../api/screens";
import { citationGroups, fileHref } from "./citations";

const step = (over: Partial<StepRecord>): StepRecord =>
  ({ id: "s", node_id: "n", node_type: "agent", attempt: 1, iteration: 0, status: "succeeded", input: null, output: null, error: null, port: null, wait: null, started_at: null, finished_at: null, duration_ms: 1, usage: null, ...over }) as StepRecord;

describe("citationGroups", () => {
  it("reads a file_search node's query and ranked chunks", () => {
    const groups = citationGroups(
      step({
        node_type: "file_search",
        output: {
          query: "refunds",
          knowledge_base_id: "kb1",
          results: [{ file_id: "f1", file_name: "guide.pdf", chunk_id: "7", score: 0.5, text: "Refunds…", metadata: { page: 2 } }],
        },
      }),
    );
    expect(groups).toEqual([
      {
        source: "File search",
        query: "refunds",
        knowledgeBaseId: "kb1",
        citations: [{ file_id: "f1", file_name: "guide.pdf", chunk_id: "7", score: 0.5, page: 2, heading: null, text: "Refunds…" }],
      },
    ]);
    expect(fileHref("kb1", groups[0].citations[0])).toBe("/api/v1/knowledge-bases/kb1/files/f1/content#page=2");
  });

  it("reads an agent's file_search tool calls and skips its other calls", () => {
    const usage = {
      tool_calls: [
        { name: "weather", arguments: {}, result: "sunny" },
        {
          name: "handbook",
          query: "parking",
          knowledge_base_id: "kb2",
          citations: [{ file_id: "f2", file_name: "p.md", chunk_id: "9", score: 0.1, metadata: { heading: "Parking" }, text: "Visitors…" }],
        },
      ],
    };
    const groups = citationGroups(step({ usage: usage as StepRecord["usage"] }));
    expect(groups.map((g) => [g.source, g.query, g.citations[0].heading])).toEqual([["Tool handbook", "parking", "Parking"]]);
    expect(fileHref("kb2", groups[0].citations[0])).toBe("/api/v1/knowledge-bases/kb2/files/f2/content");
  });

  it("shows nothing for a step without a search", () => {
    expect(citationGroups(step({ node_type: "transform", output: { query: "x" } }))).toEqual([]);
  });
});
