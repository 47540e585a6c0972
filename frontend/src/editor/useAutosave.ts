/**
 * Debounced autosave of the draft with its revision. A 409 stops saving and raises a conflict for the
 * user to resolve (never a silent overwrite); a network failure retries with backoff.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, NetworkError, errorMessage } from "../api/client";
import type { Draft } from "../api/types";
import { getDraft, putDraft, validateWorkflow } from "../api/workflows";
import type { EditorStore } from "./store";

export const AUTOSAVE_DELAY_MS = 800;

export function useAutosave(workflowId: string, store: EditorStore) {
  const timer = useRef<number | undefined>(undefined);
  const inflight = useRef<Promise<boolean> | null>(null);
  const retryDelay = useRef(1000);
  const [conflict, setConflict] = useState<Draft | null>(null);

  const validate = useCallback(async () => {
    try {
      store.getState().setIssues(await validateWorkflow(workflowId));
    } catch {
      /* validation is advisory; the next save tries again */
    }
  }, [store, workflowId]);

  const save = useCallback(async (): Promise<boolean> => {
    window.clearTimeout(timer.current);
    if (inflight.current) {
      await inflight.current;
      if (store.getState().changeCount === store.getState().savedChangeCount) return true;
    }
    const s = store.getState();
    if (s.saveState === "conflict") return false;
    if (s.changeCount === s.savedChangeCount && s.saveState === "saved") return true;
    const count = s.changeCount;
    s.setSaveState("saving");
    const run = (async () => {
      try {
        const saved = await putDraft(workflowId, s.toGraph(), s.revision);
        store.getState().markSaved(saved?.revision ?? (s.revision ?? 0) + 1, count);
        retryDelay.current = 1000;
        if (store.getState().changeCount !== count) {
          store.getState().setSaveState("dirty");
          timer.current = window.setTimeout(() => void save(), AUTOSAVE_DELAY_MS);
        } else void validate();
        return true;
      } catch (e) {
        if (e instanceof ApiError && e.status === 409) {
          store.getState().setSaveState("conflict");
          try {
            setConflict(await getDraft(workflowId));
          } catch {
            setConflict({
              graph: { format: "trellis.graph/1", nodes: [], edges: [] },
              revision: s.revision ?? 0,
              updated_at: new Date().toISOString(),
            });
          }
        } else if (e instanceof NetworkError || (e instanceof ApiError && e.status >= 500)) {
          store.getState().setSaveState("offline", errorMessage(e));
          timer.current = window.setTimeout(() => void save(), retryDelay.current);
          retryDelay.current = Math.min(retryDelay.current * 2, 30_000);
        } else {
          store.getState().setSaveState("error", errorMessage(e));
        }
        return false;
      } finally {
        inflight.current = null;
      }
    })();
    inflight.current = run;
    return run;
  }, [store, workflowId, validate]);

  useEffect(
    () =>
      store.subscribe((state, prev) => {
        if (state.changeCount === prev.changeCount || state.saveState === "conflict") return;
        if (state.saveState !== "saving" && state.saveState !== "offline") state.setSaveState("dirty");
        window.clearTimeout(timer.current);
        timer.current = window.setTimeout(() => void save(), AUTOSAVE_DELAY_MS);
      }),
    [store, save],
  );

  useEffect(() => {
    const beforeUnload = (e: BeforeUnloadEvent) => {
      const s = store.getState();
      if (s.changeCount !== s.savedChangeCount) e.preventDefault();
    };
    window.addEventListener("beforeunload", beforeUnload);
    return () => {
      window.removeEventListener("beforeunload", beforeUnload);
      window.clearTimeout(timer.current);
    };
  }, [store]);

  const resolveConflict = useCallback(
    (choice: "theirs" | "mine") => {
      if (!conflict) return;
      const s = store.getState();
      if (choice === "theirs") {
        s.load(conflict.graph);
        store.getState().markSaved(conflict.revision, store.getState().changeCount);
        void validate();
      } else {
        store.setState({ revision: conflict.revision, saveState: "dirty" });
        void save();
      }
      setConflict(null);
    },
    [conflict, store, save, validate],
  );

  return { save, validate, conflict, resolveConflict };
}
