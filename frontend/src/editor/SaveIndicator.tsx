import { useShallow } from "zustand/react/shallow";
import { useEditor } from "./store";

const TEXT = {
  saved: "Saved",
  dirty: "Unsaved changes",
  saving: "Saving…",
  offline: "Offline — will retry",
  conflict: "Conflict — choose a version",
  error: "Not saved",
};

export function SaveIndicator() {
  const { state, error } = useEditor(useShallow((s) => ({ state: s.saveState, error: s.saveError })));
  return (
    <span className={`save-state save-${state}`} role="status" aria-live="polite" title={error ?? undefined} data-testid="save-state">
      {TEXT[state]}
      {state === "error" && error ? `: ${error}` : ""}
    </span>
  );
}
