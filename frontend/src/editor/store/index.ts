/** The editor store: one zustand store built from slices, provided to the editor through context. */
import { createContext, useContext } from "react";
import { createStore, useStore, type StoreApi } from "zustand";
import { createGraphSlice } from "./graphSlice";
import { createHistorySlice } from "./historySlice";
import { createRunSlice } from "./runSlice";
import { createSaveSlice } from "./saveSlice";
import { createSelectionSlice } from "./selectionSlice";
import type { EditorState } from "./types";
import { createValidationSlice } from "./validationSlice";

export type { EditorState } from "./types";
export type EditorStore = StoreApi<EditorState>;

export function createEditorStore(): EditorStore {
  return createStore<EditorState>()((...a) => ({
    ...createGraphSlice(...a),
    ...createSelectionSlice(...a),
    ...createHistorySlice(...a),
    ...createRunSlice(...a),
    ...createValidationSlice(...a),
    ...createSaveSlice(...a),
  }));
}

export const EditorStoreContext = createContext<EditorStore | null>(null);

export function useEditorStore(): EditorStore {
  const store = useContext(EditorStoreContext);
  if (!store) throw new Error("useEditor outside <EditorStoreContext>");
  return store;
}

/** Select narrowly: pass a selector (wrap object results in useShallow). */
export function useEditor<T>(selector: (s: EditorState) => T): T {
  return useStore(useEditorStore(), selector);
}
