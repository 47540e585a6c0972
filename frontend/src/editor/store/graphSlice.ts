/** Graph slice: the nodes and edges on the canvas and every operation that changes them. */
import { applyEdgeChanges, applyNodeChanges, type Connection, type EdgeChange, type NodeChange } from "@xyflow/react";
import { checkConnection, type ConnectionVerdict } from "../../graph/connect";
import { toCanvas, toGraph } from "../../graph/convert";
import { GRAPH_FORMAT, type Graph, type GraphEdge, type GraphNode, type NodeType, type Position } from "../../graph/format";
import { isValidNodeId, nextNodeId, renameInValue, renameNodeInConfigs } from "../../graph/ids";
import { layoutNodes, NODE_WIDTH } from "../../graph/layout";
import { defaultConfig, nodeLabel } from "../../nodes/registry";
import type { AppEdge, AppNode } from "../../nodes/types";
import type { EditorSlice } from "./types";

export const CLIPBOARD_KEY = "trellis.clipboard";

export interface Clipboard {
  trellis_clipboard: 1;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export interface GraphSlice {
  nodes: AppNode[];
  edges: AppEdge[];
  /** Bumped on every change of content (not selection); autosave watches it. */
  changeCount: number;
  dragging: boolean;
  load: (graph: Graph) => void;
  onNodesChange: (changes: NodeChange<AppNode>[]) => void;
  onEdgesChange: (changes: EdgeChange<AppEdge>[]) => void;
  connect: (conn: Connection) => ConnectionVerdict;
  addNode: (type: NodeType, opts?: { position?: Position; after?: string | null }) => string;
  updateConfig: (id: string, patch: Record<string, unknown>) => void;
  renameNode: (id: string, name: string) => void;
  /** Changes a node id and every `nodes.<id>` reference; returns an error message or null. */
  changeNodeId: (from: string, to: string) => string | null;
  deleteSelected: () => void;
  deleteNodes: (ids: string[]) => void;
  copySelected: () => Clipboard | null;
  paste: (clip: Clipboard, offset?: Position) => string[];
  duplicateSelected: () => void;
  autoLayout: () => void;
  toGraph: () => Graph;
}

let edgeSeq = 0;
const newEdgeId = (edges: AppEdge[]) => {
  const taken = new Set(edges.map((e) => e.id));
  let id: string;
  do id = `e${Date.now().toString(36)}${(edgeSeq++).toString(36)}`;
  while (taken.has(id));
  return id;
};

export const createGraphSlice: EditorSlice<GraphSlice> = (set, get) => ({
  nodes: [],
  edges: [],
  changeCount: 0,
  dragging: false,

  load: (graph) => {
    const { nodes, edges } = toCanvas(graph);
    set({ nodes, edges, past: [], future: [], inspectedId: null, dragging: false });
  },

  onNodesChange: (changes) => {
    let content = false;
    let select = false;
    for (const c of changes) {
      if (c.type === "position") {
        if (c.dragging && !get().dragging) {
          get().checkpoint();
          set({ dragging: true });
        } else if (c.dragging === false) {
          content = true;
        }
      } else if (c.type === "select") select = true;
      else if (c.type === "remove" || c.type === "add" || c.type === "replace") content = true;
    }
    if (changes.some((c) => c.type === "position" && c.dragging === false)) set({ dragging: false });
    const nodes = applyNodeChanges(changes, get().nodes);
    set({ nodes, ...(content ? { changeCount: get().changeCount + 1 } : {}) });
    if (select) get().syncInspected();
  },

  onEdgesChange: (changes) => {
    const content = changes.some((c) => c.type !== "select");
    if (content) get().checkpoint();
    set({ edges: applyEdgeChanges(changes, get().edges), ...(content ? { changeCount: get().changeCount + 1 } : {}) });
  },

  connect: (conn) => {
    const verdict = checkConnection(get().nodes, get().edges, conn);
    if (!verdict.ok) return verdict;
    get().checkpoint();
    const edge: AppEdge = {
      id: newEdgeId(get().edges),
      source: conn.source,
      target: conn.target,
      sourceHandle: conn.sourceHandle ?? "out",
    };
    set({ edges: [...get().edges, edge], changeCount: get().changeCount + 1 });
    return verdict;
  },

  addNode: (type, opts = {}) => {
    const { nodes } = get();
    const label = nodeLabel(type);
    const id = nextNodeId(type, nodes.map((n) => n.id));
    const after = opts.after ? nodes.find((n) => n.id === opts.after) : undefined;
    const position = opts.position ??
      (after
        ? { x: after.position.x + NODE_WIDTH + 80, y: after.position.y }
        : { x: 80 + (nodes.length % 6) * 40, y: 80 + (nodes.length % 6) * 40 });
    const sameCount = nodes.filter((n) => n.type === type).length;
    const node = {
      id,
      type,
      position,
      selected: true,
      data: { name: sameCount ? `${label} ${sameCount + 1}` : label, config: defaultConfig(type) },
    } as unknown as AppNode;
    get().checkpoint();
    const others = nodes.map((n) => (n.selected ? { ...n, selected: false } : n));
    let edges = get().edges;
    if (after && type !== "note" && after.type !== "note") {
      const conn = { source: after.id, target: id, sourceHandle: "out", targetHandle: null };
      const next = [...others, node];
      if (checkConnection(next, edges, conn).ok) edges = [...edges, { id: newEdgeId(edges), source: after.id, target: id, sourceHandle: "out" }];
    }
    set({ nodes: [...others, node], edges, inspectedId: id, changeCount: get().changeCount + 1 });
    return id;
  },

  updateConfig: (id, patch) => {
    get().checkpoint({ coalesceKey: `config:${id}:${Object.keys(patch).join(",")}` });
    set({
      nodes: get().nodes.map((n) =>
        n.id === id ? ({ ...n, data: { ...n.data, config: { ...n.data.config, ...patch } } } as AppNode) : n,
      ),
      changeCount: get().changeCount + 1,
    });
  },

  renameNode: (id, name) => {
    get().checkpoint({ coalesceKey: `name:${id}` });
    set({
      nodes: get().nodes.map((n) => (n.id === id ? ({ ...n, data: { ...n.data, name } } as AppNode) : n)),
      changeCount: get().changeCount + 1,
    });
  },

  changeNodeId: (from, to) => {
    if (from === to) return null;
    if (!isValidNodeId(to)) return "Use a lowercase letter, then letters, digits or _ (max 64).";
    if (get().nodes.some((n) => n.id === to)) return `The id "${to}" is taken.`;
    get().checkpoint();
    const nodes = renameNodeInConfigs(get().nodes, from, to);
    const edges = get().edges.map((e) =>
      e.source === from || e.target === from
        ? { ...e, source: e.source === from ? to : e.source, target: e.target === from ? to : e.target }
        : e,
    );
    set({
      nodes,
      edges,
      inspectedId: get().inspectedId === from ? to : get().inspectedId,
      changeCount: get().changeCount + 1,
    });
    return null;
  },

  deleteSelected: () => {
    const ids = get().nodes.filter((n) => n.selected).map((n) => n.id);
    const edgeIds = new Set(get().edges.filter((e) => e.selected).map((e) => e.id));
    if (!ids.length && !edgeIds.size) return;
    get().checkpoint();
    const gone = new Set(ids);
    set({
      nodes: get().nodes.filter((n) => !gone.has(n.id)),
      edges: get().edges.filter((e) => !edgeIds.has(e.id) && !gone.has(e.source) && !gone.has(e.target)),
      inspectedId: gone.has(get().inspectedId ?? "") ? null : get().inspectedId,
      changeCount: get().changeCount + 1,
    });
  },

  deleteNodes: (ids) => {
    get().selectOnly(ids);
    get().deleteSelected();
  },

  copySelected: () => {
    const selected = get().nodes.filter((n) => n.selected);
    if (!selected.length) return null;
    const ids = new Set(selected.map((n) => n.id));
    const graph = toGraph(
      selected,
      get().edges.filter((e) => ids.has(e.source) && ids.has(e.target)),
    );
    return { trellis_clipboard: 1, nodes: graph.nodes, edges: graph.edges };
  },

  paste: (clip, offset = { x: 40, y: 40 }) => {
    if (!clip?.nodes?.length) return [];
    const taken = new Set(get().nodes.map((n) => n.id));
    const idMap = new Map<string, string>();
    for (const n of clip.nodes) {
      const id = nextNodeId(n.id, taken);
      taken.add(id);
      idMap.set(n.id, id);
    }
    const renamed: GraphNode[] = clip.nodes.map((n) => {
      let config = n.config;
      for (const [from, to] of idMap) if (from !== to) config = renameInValue(config, from, to);
      const p = n.position ?? { x: 0, y: 0 };
      return { ...n, id: idMap.get(n.id)!, config, position: { x: p.x + offset.x, y: p.y + offset.y } };
    });
    const edgesIn: GraphEdge[] = clip.edges
      .filter((e) => idMap.has(e.source) && idMap.has(e.target))
      .map((e, i) => ({ ...e, id: `${newEdgeId(get().edges)}${i}`, source: idMap.get(e.source)!, target: idMap.get(e.target)! }));
    const pasted = toCanvas({ format: GRAPH_FORMAT, nodes: renamed, edges: edgesIn });
    get().checkpoint();
    set({
      nodes: [...get().nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), ...pasted.nodes.map((n) => ({ ...n, selected: true }))],
      edges: [...get().edges, ...pasted.edges],
      inspectedId: pasted.nodes.length === 1 ? pasted.nodes[0].id : null,
      changeCount: get().changeCount + 1,
    });
    return pasted.nodes.map((n) => n.id);
  },

  duplicateSelected: () => {
    const clip = get().copySelected();
    if (clip) get().paste(clip, { x: 40, y: 60 });
  },

  autoLayout: () => {
    get().checkpoint();
    set({ nodes: layoutNodes(get().nodes, get().edges), changeCount: get().changeCount + 1 });
  },

  toGraph: () => toGraph(get().nodes, get().edges),
});
