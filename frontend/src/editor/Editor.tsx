/** The canvas editor screen: loads the draft, wires the store, autosave, validation and the side panels. */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { ReactFlowProvider, useReactFlow } from "@xyflow/react";
import { useEffect, useState } from "react";
import { Link } from "react-router-dom";
import { useShallow } from "zustand/react/shallow";
import { ApiError, errorMessage } from "../api/client";
import { getGate, type GateFailure } from "../api/evals";
import { getDraft, getWorkflow, publishWorkflow, renameWorkflow } from "../api/workflows";
import { Dialog } from "../components/Dialog";
import { ErrorState, Loading } from "../components/States";
import { NodeViewContext } from "../fields/context";
import { WorkspaceSwitcher } from "../shell/WorkspaceSwitcher";
import "../pages/evals/evals.css";
import { Canvas } from "./Canvas";
import { ConflictDialog } from "./ConflictDialog";
import { Inspector } from "./Inspector";
import { IssuesPanel } from "./IssuesPanel";
import { Palette } from "./Palette";
import { RunPanel } from "./RunPanel";
import { SaveIndicator } from "./SaveIndicator";
import { SHORTCUTS, isTyping } from "./shortcuts";
import { CLIPBOARD_KEY, type Clipboard } from "./store/graphSlice";
import { createEditorStore, EditorStoreContext, useEditor, useEditorStore, type EditorStore } from "./store";
import { useAutosave } from "./useAutosave";

type Tab = "inspect" | "issues" | "run";

export function Editor({ workflowId }: { workflowId: string }) {
  const [store] = useState<EditorStore>(createEditorStore);
  const [loaded, setLoaded] = useState(false);
  const workflow = useQuery({ queryKey: ["workflow", workflowId], queryFn: () => getWorkflow(workflowId) });
  const draft = useQuery({ queryKey: ["draft", workflowId], queryFn: () => getDraft(workflowId), staleTime: Infinity, gcTime: 0 });

  useEffect(() => {
    if (loaded || !draft.data) return;
    store.getState().load(draft.data.graph);
    store.getState().markSaved(draft.data.revision, store.getState().changeCount);
    setLoaded(true);
  }, [draft.data, loaded, store]);

  if (draft.isError || workflow.isError)
    return (
      <div className="page">
        <ErrorState error={draft.error ?? workflow.error} retry={() => void draft.refetch()} />
        <Link to="/workflows">Back to workflows</Link>
      </div>
    );
  if (!loaded) return <Loading label="Opening the workflow" />;
  return (
    <EditorStoreContext.Provider value={store}>
      <NodeViewContext.Provider value={store}>
        <ReactFlowProvider>
          <EditorLayout workflowId={workflowId} name={workflow.data?.name ?? ""} />
        </ReactFlowProvider>
      </NodeViewContext.Provider>
    </EditorStoreContext.Provider>
  );
}

function EditorLayout({ workflowId, name }: { workflowId: string; name: string }) {
  const store = useEditorStore();
  const { fitView, screenToFlowPosition } = useReactFlow();
  const { save, validate, conflict, resolveConflict } = useAutosave(workflowId, store);
  const [tab, setTab] = useState<Tab>("inspect");
  const [helpOpen, setHelpOpen] = useState(false);
  const [publishOpen, setPublishOpen] = useState(false);
  const { undo, redo, canUndo, canRedo, autoLayout, inspectedId, errorCount, issueCount } = useEditor(
    useShallow((s) => ({
      undo: s.undo,
      redo: s.redo,
      canUndo: s.past.length > 0,
      canRedo: s.future.length > 0,
      autoLayout: s.autoLayout,
      inspectedId: s.inspectedId,
      errorCount: s.issues.filter((i) => i.severity === "error").length,
      issueCount: s.issues.length,
    })),
  );

  // Validate once the canvas has painted: on a large graph the request competes with opening it.
  useEffect(() => {
    const t = window.setTimeout(() => void validate(), 400);
    return () => window.clearTimeout(t);
  }, [validate]);
  useEffect(() => {
    if (inspectedId) setTab((t) => (t === "issues" ? "inspect" : t));
  }, [inspectedId]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e.target) || (e.target as HTMLElement)?.closest?.("dialog")) return;
      const s = store.getState();
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      if (mod && key === "z" && !e.shiftKey) s.undo();
      else if (mod && ((key === "z" && e.shiftKey) || key === "y")) s.redo();
      else if (mod && key === "c") {
        const clip = s.copySelected();
        if (!clip) return;
        const text = JSON.stringify(clip);
        localStorage.setItem(CLIPBOARD_KEY, text);
        void navigator.clipboard?.writeText(text).catch(() => undefined);
      } else if (mod && key === "v") {
        const text = localStorage.getItem(CLIPBOARD_KEY);
        if (!text) return;
        const clip = JSON.parse(text) as Clipboard;
        // Paste into the middle of what the user is looking at, not where the nodes were copied from.
        const rect = document.querySelector(".canvas")?.getBoundingClientRect();
        const xs = clip.nodes.map((n) => n.position?.x ?? 0);
        const ys = clip.nodes.map((n) => n.position?.y ?? 0);
        if (rect && xs.length) {
          const centre = screenToFlowPosition({ x: rect.left + rect.width / 2, y: rect.top + rect.height / 3 });
          s.paste(clip, { x: centre.x - Math.min(...xs) - 100, y: centre.y - Math.min(...ys) - 30 });
        } else s.paste(clip);
      } else if (mod && key === "d") s.duplicateSelected();
      else if (mod && key === "a") s.selectAll();
      else if (mod && key === "s") void save();
      else if (mod && key === "enter") setTab("run");
      else if (mod) return;
      else if (key === "delete" || key === "backspace") s.deleteSelected();
      else if (key === "escape") s.clearSelection();
      else if (key === "l") {
        s.autoLayout();
        window.setTimeout(() => void fitView({ duration: 200 }), 50);
      } else if (key === "f") void fitView({ duration: 200 });
      else if (e.key === "?") setHelpOpen(true);
      else return;
      e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [store, save, fitView, screenToFlowPosition]);

  const publishBlocked = errorCount > 0 ? `Fix ${errorCount} validation error${errorCount > 1 ? "s" : ""} first` : null;

  return (
    <div className="editor">
      <header className="editor-bar">
        <Link to="/workflows" className="back" aria-label="Back to workflows">
          ←
        </Link>
        <WorkflowName workflowId={workflowId} name={name} />
        <SaveIndicator />
        <div className="toolbar" role="toolbar" aria-label="Editor tools">
          <button type="button" onClick={undo} disabled={!canUndo} aria-label="Undo" title="Undo (Ctrl+Z)">
            ↶
          </button>
          <button type="button" onClick={redo} disabled={!canRedo} aria-label="Redo" title="Redo (Ctrl+Shift+Z)">
            ↷
          </button>
          <button
            type="button"
            onClick={() => {
              autoLayout();
              window.setTimeout(() => void fitView({ duration: 200 }), 50);
            }}
            title="Auto-layout (L)"
          >
            Auto-layout
          </button>
          <button type="button" onClick={() => void fitView({ duration: 200 })} title="Zoom to fit (F)">
            Fit
          </button>
          <button type="button" onClick={() => setHelpOpen(true)} aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)">
            ?
          </button>
        </div>
        <nav className="editor-links" aria-label="Runs, versions and triggers">
          <Link to={`/workflows/${workflowId}/runs`}>Runs</Link>
          <Link to={`/workflows/${workflowId}/versions`}>Versions</Link>
          <Link to={`/workflows/${workflowId}/triggers`}>Triggers</Link>
        </nav>
        <div className="editor-bar-right">
          <WorkspaceSwitcher leaveTo="/workflows" />
          <button type="button" onClick={() => setTab("run")} className={tab === "run" ? "active" : ""}>
            ▶ Test run
          </button>
          <span title={publishBlocked ?? "Publish a new version"}>
            <button type="button" className="primary" disabled={!!publishBlocked} onClick={() => setPublishOpen(true)} aria-describedby="publish-reason">
              Publish
            </button>
          </span>
          {publishBlocked && (
            <span id="publish-reason" className="publish-reason">
              {publishBlocked}
            </span>
          )}
        </div>
      </header>
      <div className="editor-body">
        <Palette />
        <Canvas />
        <aside className="side" aria-label="Side panel">
          <div className="tabs" role="tablist">
            <button type="button" role="tab" aria-selected={tab === "inspect"} className={tab === "inspect" ? "tab active" : "tab"} onClick={() => setTab("inspect")}>
              Inspector
            </button>
            <button type="button" role="tab" aria-selected={tab === "issues"} className={tab === "issues" ? "tab active" : "tab"} onClick={() => setTab("issues")}>
              Issues {issueCount > 0 && <span className={errorCount ? "badge badge-error" : "badge"}>{issueCount}</span>}
            </button>
            <button type="button" role="tab" aria-selected={tab === "run"} className={tab === "run" ? "tab active" : "tab"} onClick={() => setTab("run")}>
              Test run
            </button>
          </div>
          <div className="side-body">
            {tab === "inspect" && <Inspector />}
            {tab === "issues" && <IssuesPanel onPick={() => setTab("inspect")} />}
            <div hidden={tab !== "run"}>
              <RunPanel workflowId={workflowId} save={save} />
            </div>
          </div>
        </aside>
      </div>
      <Dialog open={helpOpen} title="Keyboard shortcuts" onClose={() => setHelpOpen(false)}>
        <table className="table">
          <tbody>
            {SHORTCUTS.map((s) => (
              <tr key={s.keys}>
                <td>
                  <kbd>{s.keys}</kbd>
                </td>
                <td>{s.does}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Dialog>
      <PublishDialog open={publishOpen} onClose={() => setPublishOpen(false)} workflowId={workflowId} save={save} />
      <ConflictDialog theirs={conflict} onResolve={resolveConflict} />
    </div>
  );
}

function WorkflowName({ workflowId, name }: { workflowId: string; name: string }) {
  const [value, setValue] = useState(name);
  const qc = useQueryClient();
  useEffect(() => setValue(name), [name]);
  const commit = async () => {
    if (!value.trim() || value === name) return setValue(name);
    try {
      await renameWorkflow(workflowId, value.trim());
      void qc.invalidateQueries({ queryKey: ["workflow", workflowId] });
      void qc.invalidateQueries({ queryKey: ["workflows"] });
    } catch {
      setValue(name);
    }
  };
  return (
    <input
      className="wf-name"
      aria-label="Workflow name"
      value={value}
      onChange={(e) => setValue(e.target.value)}
      onBlur={() => void commit()}
      onKeyDown={(e) => e.key === "Enter" && (e.target as HTMLInputElement).blur()}
    />
  );
}

function PublishDialog({ open, onClose, workflowId, save }: { open: boolean; onClose: () => void; workflowId: string; save: () => Promise<boolean> }) {
  const [note, setNote] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [gateFailures, setGateFailures] = useState<GateFailure[] | null>(null);
  const gate = useQuery({ queryKey: ["gate", workflowId], queryFn: () => getGate(workflowId), enabled: open });
  const [done, setDone] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const qc = useQueryClient();
  const submit = async () => {
    setBusy(true);
    setError(null);
    setGateFailures(null);
    try {
      if (!(await save())) throw new Error("The draft could not be saved.");
      const v = await publishWorkflow(workflowId, note);
      setDone(v?.number ?? 0);
      void qc.invalidateQueries({ queryKey: ["workflow", workflowId] });
    } catch (e) {
      setError(errorMessage(e));
      if (e instanceof ApiError && e.code === "eval_gate_failed") setGateFailures(e.details as GateFailure[]);
    } finally {
      setBusy(false);
    }
  };
  const close = () => {
    setGateFailures(null);
    setDone(null);
    setNote("");
    setError(null);
    onClose();
  };
  return (
    <Dialog open={open} title="Publish a new version" onClose={close}>
      {done !== null ? (
        <>
          <p role="status">Published version {done || ""}. Triggers and the API now run it.</p>
          <div className="actions">
            <button type="button" className="primary" onClick={close}>
              Done
            </button>
          </div>
        </>
      ) : (
        <form
          className="form"
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <label>
            What changed?
            <textarea aria-label="Version note" rows={3} value={note} onChange={(e) => setNote(e.target.value)} placeholder="e.g. Route refunds to a human" />
          </label>
          {gate.data && (
            <p className="muted small-text" aria-label="Publish gate">
              Publish gate: the draft must pass {Math.round(gate.data.min_pass_rate * 100)}% of dataset {gate.data.dataset_name} (an eval runs
              unless one of this exact draft is less than an hour old).
            </p>
          )}
          {error && <p className="field-error" role="alert">{error}</p>}
          {gateFailures && gateFailures.length > 0 && (
            <div className="gate-result" aria-label="Failing items">
              <strong>Failing items</strong>
              <ul>
                {gateFailures.slice(0, 10).map((f) => (
                  <li key={f.position}>
                    <code>{JSON.stringify(f.input)}</code> → <code>{JSON.stringify(f.output)}</code> (expected <code>{JSON.stringify(f.expected)}</code>)
                  </li>
                ))}
              </ul>
            </div>
          )}
          <div className="actions">
            <button type="button" onClick={close}>
              Cancel
            </button>
            <button type="submit" className="primary" disabled={busy}>
              {busy ? (gate.data ? "Running the gate's eval…" : "Publishing…") : "Publish"}
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
