import type { NoteConfig } from "./types";

export const noteDefaults = (): NoteConfig => ({ text: "Write a note…" });
