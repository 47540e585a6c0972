/** A small static picture of a graph for the templates gallery: boxes in the graph's layout, lines for edges. */
import { memo } from "react";
import { toCanvas } from "../../graph/convert";
import type { Graph } from "../../graph/format";
import { layoutNodes, NODE_HEIGHT, NODE_WIDTH } from "../../graph/layout";
import { nodeTypeInfo } from "../../nodes/registry";
import "../screens.css";

const GROUP_COLOR = { core: "#6366f1", tools: "#0ea5e9", logic: "#f59e0b", data: "#10b981" } as const;

export interface ThumbBox {
  id: string;
  x: number;
  y: number;
  color: string;
  name: string;
}

/** Boxes and edge segments in graph coordinates, laid out automatically when the graph has no positions. */
export function thumbGeometry(graph: Graph): { boxes: ThumbBox[]; lines: [number, number, number, number][]; view: [number, number, number, number] } {
  const canvas = toCanvas(graph);
  const positioned = graph.nodes.every((n) => n.position);
  const nodes = (positioned ? canvas.nodes : layoutNodes(canvas.nodes, canvas.edges)).filter((n) => n.type !== "note");
  const boxes = nodes.map((n) => ({
    id: n.id,
    x: n.position.x,
    y: n.position.y,
    color: GROUP_COLOR[nodeTypeInfo(n.type)?.group ?? "core"],
    name: n.data.name,
  }));
  const at = Object.fromEntries(boxes.map((b) => [b.id, b]));
  const lines = graph.edges
    .filter((e) => at[e.source] && at[e.target])
    .map((e) => {
      const a = at[e.source];
      const b = at[e.target];
      return [a.x + NODE_WIDTH, a.y + NODE_HEIGHT / 2, b.x, b.y + NODE_HEIGHT / 2] as [number, number, number, number];
    });
  if (!boxes.length) return { boxes, lines, view: [0, 0, 100, 50] };
  const minX = Math.min(...boxes.map((b) => b.x)) - 20;
  const minY = Math.min(...boxes.map((b) => b.y)) - 20;
  const maxX = Math.max(...boxes.map((b) => b.x + NODE_WIDTH)) + 20;
  const maxY = Math.max(...boxes.map((b) => b.y + NODE_HEIGHT)) + 20;
  return { boxes, lines, view: [minX, minY, maxX - minX, maxY - minY] };
}

export const GraphThumb = memo(function GraphThumb({ graph, label }: { graph: Graph; label?: string }) {
  const { boxes, lines, view } = thumbGeometry(graph);
  return (
    <svg className="graph-thumb" viewBox={view.join(" ")} preserveAspectRatio="xMidYMid meet" role="img" aria-label={label ?? `Preview: ${boxes.map((b) => b.name).join(", ")}`}>
      {lines.map(([x1, y1, x2, y2], i) => (
        <path key={i} d={`M${x1},${y1} C${x1 + 40},${y1} ${x2 - 40},${y2} ${x2},${y2}`} stroke="#9aa0ae" strokeWidth={4} fill="none" />
      ))}
      {boxes.map((b) => (
        <g key={b.id}>
          <rect x={b.x} y={b.y} width={NODE_WIDTH} height={NODE_HEIGHT} rx={12} fill="#fff" stroke="#c9ccd5" strokeWidth={3} />
          <rect x={b.x + 12} y={b.y + 18} width={36} height={36} rx={8} fill={b.color} />
          <text x={b.x + 60} y={b.y + 44} fontSize={24} fill="#1c1d22">
            {b.name.length > 11 ? `${b.name.slice(0, 10)}…` : b.name}
          </text>
        </g>
      ))}
    </svg>
  );
});
