/** History slice: undo/redo over snapshots of nodes and edges (arrays are shared, so a snapshot is cheap). */
import type { AppEdge, AppNode } from "../../nodes/types";
import type { EditorSlice } from "./types";

export const HISTORY_LIMIT = 200;

interface Snapshot {
  nodes: AppNode[];
  edges: AppEdge[];
}

export interface HistorySlice {
  past: Snapshot[];
  future: Snapshot[];
  lastCoalesceKey: string | null;
  lastCheckpointAt: number;
  /** Records the current graph before a change. Typing in one field within a second is one step. */
  checkpoint: (opts?: { coalesceKey?: string }) => void;
  undo: () => void;
  redo: () => void;
}

const strip = (nodes: AppNode[]) => nodes;

export const createHistorySlice: EditorSlice<HistorySlice> = (set, get) => ({
  past: [],
  future: [],
  lastCoalesceKey: null,
  lastCheckpointAt: 0,

  checkpoint: (opts = {}) => {
    const now = Date.now();
    const key = opts.coalesceKey ?? null;
    if (key && key === get().lastCoalesceKey && now - get().lastCheckpointAt < 1000) {
      set({ lastCheckpointAt: now });
      return;
    }
    const past = [...get().past, { nodes: strip(get().nodes), edges: get().edges }];
    if (past.length > HISTORY_LIMIT) past.splice(0, past.length - HISTORY_LIMIT);
    set({ past, future: [], lastCoalesceKey: key, lastCheckpointAt: now });
  },

  undo: () => {
    const past = get().past;
    if (!past.length) return;
    const previous = past[past.length - 1];
    set({
      past: past.slice(0, -1),
      future: [...get().future, { nodes: get().nodes, edges: get().edges }],
      nodes: previous.nodes,
      edges: previous.edges,
      lastCoalesceKey: null,
      changeCount: get().changeCount + 1,
    });
    get().syncInspected();
  },

  redo: () => {
    const future = get().future;
    if (!future.length) return;
    const next = future[future.length - 1];
    set({
      future: future.slice(0, -1),
      past: [...get().past, { nodes: get().nodes, edges: get().edges }],
      nodes: next.nodes,
      edges: next.edges,
      lastCoalesceKey: null,
      changeCount: get().changeCount + 1,
    });
    get().syncInspected();
  },
});
