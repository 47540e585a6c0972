import type { StateCreator } from "zustand";
import type { GraphSlice } from "./graphSlice";
import type { HistorySlice } from "./historySlice";
import type { RunSlice } from "./runSlice";
import type { SaveSlice } from "./saveSlice";
import type { SelectionSlice } from "./selectionSlice";
import type { ValidationSlice } from "./validationSlice";

export type EditorState = GraphSlice & SelectionSlice & HistorySlice & RunSlice & ValidationSlice & SaveSlice;

export type EditorSlice<T> = StateCreator<EditorState, [], [], T>;
