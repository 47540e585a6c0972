import { describe, expect, it } from "vitest";
import type { GraphDiff } from "../../api/screens";
import type { Graph } from "../../graph/format";
import { NODE_HEIGHT } from "../../graph/layout";
import { diffCanvas, diffSummary, fieldLabel, showValue } from "./diff";

const node = (id: string, x = 0, config: Record<string, unknown> = {}) => ({
  id,
  type: "transform" as const,
  name: id,
  position: { x, y: 0 },
  config,
});

const before: Graph = {
  format: "trellis.graph/1",
  nodes: [node("start"), node("old", 200), node("end", 400, { output: "1" })],
  edges: [
    { id: "e1", source: "start", target: "old" },
    { id: "e2", source: "old", target: "end" },
  ],
};
const after: Graph = {
  format: "trellis.graph/1",
  nodes: [node("start"), node("fresh", 200), node("end", 400, { output: "2" })],
  edges: [
    { id: "e1", source: "start", target: "fresh" },
    { id: "e3", source: "fresh", target: "end" },
  ],
};
const diff: GraphDiff = {
  from: 1,
  to: 2,
  nodes: { added: ["fresh"], removed: ["old"], changed: [{ id: "end", changes: [{ field: "config.output", from: "1", to: "2" }] }] },
  edges: {
    added: [
      { source: "fresh", source_port: "out", target: "end" },
      { source: "start", source_port: "out", target: "fresh" },
    ],
    removed: [
      { source: "old", source_port: "out", target: "end" },
      { source: "start", source_port: "out", target: "old" },
    ],
  },
};

describe("diffCanvas", () => {
  it("shows the union of both graphs with added, removed and changed nodes marked", () => {
    const c = diffCanvas(before, after, diff);
    expect(c.graph.nodes.map((n) => n.id)).toEqual(["start", "fresh", "end", "old"]);
    expect(c.nodeMarks).toEqual({ fresh: "added", old: "removed", end: "changed" });
    // "fresh" took the place of "old", which moves down instead of hiding under it
    expect(c.graph.nodes.find((n) => n.id === "old")!.position).toEqual({ x: 200, y: NODE_HEIGHT + 24 });
  });

  it("keeps a removed node where it was when nothing sits there now", () => {
    const moved: Graph = { ...after, nodes: after.nodes.map((n) => (n.id === "fresh" ? { ...n, position: { x: 200, y: 500 } } : n)) };
    const c = diffCanvas(before, moved, diff);
    expect(c.graph.nodes.find((n) => n.id === "old")!.position).toEqual({ x: 200, y: 0 });
  });

  it("marks edges by what they connect, keeping removed ones with a unique id", () => {
    const c = diffCanvas(before, after, diff);
    expect(c.graph.edges.map((e) => [e.id, e.source, e.target])).toEqual([
      ["e1", "start", "fresh"],
      ["e3", "fresh", "end"],
      ["e1_removed", "start", "old"],
      ["e2", "old", "end"],
    ]);
    expect(c.edgeMarks).toEqual({ e1: "added", e3: "added", e1_removed: "removed", e2: "removed" });
  });

  it("marks nothing when the versions are equal", () => {
    const none: GraphDiff = { from: 1, to: 1, nodes: { added: [], removed: [], changed: [] }, edges: { added: [], removed: [] } };
    const c = diffCanvas(after, after, none);
    expect(c.nodeMarks).toEqual({});
    expect(c.edgeMarks).toEqual({});
    expect(diffSummary(none)).toBe("No differences");
  });
});

describe("field rendering", () => {
  it("reads field paths as labels", () => {
    expect(fieldLabel("config.cases[0].condition")).toBe("Cases › 1 › Condition");
    expect(fieldLabel("name")).toBe("Name");
    expect(fieldLabel("config.max_output_tokens")).toBe("Max output tokens");
  });

  it("shows values briefly", () => {
    expect(showValue(null)).toBe("(none)");
    expect(showValue("a")).toBe('"a"');
    expect(showValue({ a: 1 })).toBe('{"a":1}');
    expect(showValue("x".repeat(100), 10)).toBe('"xxxxxxxx…');
  });

  it("summarises a diff", () => {
    expect(diffSummary(diff)).toBe("1 added, 1 removed, 1 changed, 4 connection changes");
  });
});
