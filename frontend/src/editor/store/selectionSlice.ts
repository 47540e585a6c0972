/** Selection slice: which node the inspector shows, and which field to focus (from a validation issue). */
import type { EditorSlice } from "./types";

export interface SelectionSlice {
  inspectedId: string | null;
  focusField: string | null;
  /** Bumped on every request to focus a field, so that asking twice focuses twice. */
  focusRequest: number;
  syncInspected: () => void;
  selectOnly: (ids: string[], focusField?: string | null) => void;
  selectAll: () => void;
  clearSelection: () => void;
}

export const createSelectionSlice: EditorSlice<SelectionSlice> = (set, get) => ({
  inspectedId: null,
  focusField: null,
  focusRequest: 0,

  syncInspected: () => {
    const selected = get().nodes.filter((n) => n.selected);
    const inspectedId = selected.length === 1 ? selected[0].id : null;
    if (inspectedId !== get().inspectedId) set({ inspectedId, focusField: null });
  },

  selectOnly: (ids, focusField = null) => {
    const want = new Set(ids);
    set({
      nodes: get().nodes.map((n) => (!!n.selected === want.has(n.id) ? n : { ...n, selected: want.has(n.id) })),
      edges: get().edges.map((e) => (e.selected ? { ...e, selected: false } : e)),
      inspectedId: ids.length === 1 ? ids[0] : null,
      focusField,
      focusRequest: get().focusRequest + (focusField ? 1 : 0),
    });
  },

  selectAll: () => {
    set({ nodes: get().nodes.map((n) => (n.selected ? n : { ...n, selected: true })), inspectedId: null });
  },

  clearSelection: () => get().selectOnly([]),
});
