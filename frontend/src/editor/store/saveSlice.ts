/** Save slice: draft revision and what the save indicator shows. */
import type { EditorSlice } from "./types";

export type SaveState = "saved" | "dirty" | "saving" | "offline" | "conflict" | "error";

export interface SaveSlice {
  revision: number | null;
  savedChangeCount: number;
  saveState: SaveState;
  saveError: string | null;
  setSaveState: (state: SaveState, error?: string | null) => void;
  markSaved: (revision: number, changeCount: number) => void;
}

export const createSaveSlice: EditorSlice<SaveSlice> = (set) => ({
  revision: null,
  savedChangeCount: 0,
  saveState: "saved",
  saveError: null,
  setSaveState: (saveState, saveError = null) => set({ saveState, saveError }),
  markSaved: (revision, savedChangeCount) => set({ revision, savedChangeCount, saveState: "saved", saveError: null }),
});
