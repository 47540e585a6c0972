import { describe, expect, it } from "vitest";
import { NODE_HEIGHT, NODE_WIDTH } from "../../graph/layout";
import { thumbGeometry } from "./GraphThumb";

describe("thumbGeometry", () => {
  it("uses the graph's positions and draws edges from the right of the source to the left of the target", () => {
    const g = thumbGeometry({
      format: "trellis.graph/1",
      nodes: [
        { id: "start", type: "start", name: "Start", position: { x: 0, y: 0 }, config: {} },
        { id: "end", type: "end", name: "End", position: { x: 300, y: 100 }, config: {} },
        { id: "n", type: "note", name: "Note", position: { x: 900, y: 900 }, config: {} },
      ],
      edges: [{ id: "e", source: "start", target: "end" }],
    });
    expect(g.boxes.map((b) => b.id)).toEqual(["start", "end"]);
    expect(g.lines).toEqual([[NODE_WIDTH, NODE_HEIGHT / 2, 300, 100 + NODE_HEIGHT / 2]]);
    expect(g.view).toEqual([-20, -20, 300 + NODE_WIDTH + 40, 100 + NODE_HEIGHT + 40]);
  });

  it("lays a graph without positions out left to right", () => {
    const g = thumbGeometry({
      format: "trellis.graph/1",
      nodes: [
        { id: "a", type: "start", name: "A", config: {} },
        { id: "b", type: "end", name: "B", config: {} },
      ],
      edges: [{ id: "e", source: "a", target: "b" }],
    });
    const [a, b] = g.boxes;
    expect(b.x).toBeGreaterThan(a.x);
  });
});
