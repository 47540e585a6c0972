/** The right-hand inspector: the selected node's name, id, type-specific form and error handling. */
import { useEffect, useRef, useState } from "react";
import { useShallow } from "zustand/react/shallow";
import { Field } from "../fields/Field";
import { handlesErrors } from "../graph/ports";
import { GenericPanel, panelTypes } from "../nodes";
import { nodeTypeInfo } from "../nodes/registry";
import type { ExecConfig, OnError } from "../nodes/common";
import type { AppNode } from "../nodes/types";
import type { PanelProps } from "../nodes/panelTypes";
import { useEditor } from "./store";

export function Inspector() {
  const node = useEditor((s) => (s.inspectedId ? s.nodes.find((n) => n.id === s.inspectedId) : undefined));
  const selectedCount = useEditor((s) => (s.inspectedId ? 1 : s.nodes.reduce((k, n) => k + (n.selected ? 1 : 0), 0)));
  const { deleteSelected, duplicateSelected } = useEditor(useShallow((s) => ({ deleteSelected: s.deleteSelected, duplicateSelected: s.duplicateSelected })));
  if (!node) {
    return (
      <div className="inspector-empty">
        {selectedCount > 1 ? (
          <>
            <p>
              <strong>{selectedCount} nodes selected.</strong>
            </p>
            <div className="actions">
              <button type="button" onClick={duplicateSelected}>Duplicate</button>
              <button type="button" className="danger" onClick={deleteSelected}>Delete</button>
            </div>
          </>
        ) : (
          <>
            <p><strong>Select a node to configure it.</strong></p>
            <p className="muted">Add nodes from the palette, connect a node's right-hand port to another's left-hand port, then try it in <em>Test run</em>.</p>
          </>
        )}
      </div>
    );
  }
  return <NodeInspector key={node.id} node={node} />;
}

function NodeInspector({ node }: { node: AppNode }) {
  const { updateConfig, renameNode, changeNodeId, deleteNodes, focusField, focusRequest } = useEditor(
    useShallow((s) => ({
      updateConfig: s.updateConfig,
      renameNode: s.renameNode,
      changeNodeId: s.changeNodeId,
      deleteNodes: s.deleteNodes,
      focusField: s.focusField,
      focusRequest: s.focusRequest,
    })),
  );
  const [idDraft, setIdDraft] = useState(node.id);
  const [idError, setIdError] = useState<string | null>(null);
  const root = useRef<HTMLDivElement>(null);
  const info = nodeTypeInfo(node.type);
  const meta = { group: info?.group ?? "core", label: info?.label ?? node.type, icon: info?.icon ?? "?" };
  // A type without a panel of its own gets the form built from its config schema.
  const Panel = (panelTypes[node.type] ?? GenericPanel) as React.ComponentType<PanelProps<AppNode>>;
  const update = (patch: Record<string, unknown>) => updateConfig(node.id, patch);

  useEffect(() => {
    if (!focusField || !root.current) return;
    const norm = focusField.replace(/^config\./, "").replace(/\[(\d+)\]/g, ".$1");
    const candidates = [...root.current.querySelectorAll<HTMLElement>("[data-field]")];
    const match =
      candidates.find((el) => el.dataset.field === norm) ?? candidates.find((el) => norm.startsWith(`${el.dataset.field}.`));
    const input = match?.querySelector<HTMLElement>(".expr-input") ?? match?.querySelector<HTMLElement>("textarea, input, select");
    match?.scrollIntoView({ block: "center" });
    input?.focus();
  }, [focusField, focusRequest]);

  const commitId = () => {
    const err = changeNodeId(node.id, idDraft.trim());
    setIdError(err);
  };

  return (
    <div className="inspector" ref={root} aria-label={`Inspector for ${node.data.name}`}>
      <div className="inspector-head">
        <span className={`card-icon group-${meta.group}`} aria-hidden>
          {meta.icon}
        </span>
        <div>
          <div className="inspector-type">{meta.label}</div>
          <div className="muted small-text">{info?.description}</div>
        </div>
        <button type="button" className="small danger" aria-label={`Delete ${node.data.name}`} title="Delete (Del)" onClick={() => deleteNodes([node.id])}>
          Delete
        </button>
      </div>
      <Field nodeId={node.id} field="name" label="Name">
        <input aria-label="Node name" value={node.data.name} onChange={(e) => renameNode(node.id, e.target.value)} />
      </Field>
      {node.type !== "note" && (
        <Field nodeId={node.id} field="id" label="ID (used in expressions)" extraError={idError} hint={<code>nodes.{node.id}.output</code>}>
          <input
            aria-label="Node id"
            value={idDraft}
            onChange={(e) => setIdDraft(e.target.value)}
            onBlur={commitId}
            onKeyDown={(e) => e.key === "Enter" && commitId()}
          />
        </Field>
      )}
      <Panel node={node} update={update} schema={info?.config_schema} />
      {handlesErrors(node) && <ErrorHandling node={node} update={update} />}
    </div>
  );
}

function ErrorHandling({ node, update }: { node: AppNode; update: (p: Record<string, unknown>) => void }) {
  const c = node.data.config as ExecConfig;
  return (
    <details className="section" open={!!c.on_error && c.on_error !== "fail"}>
      <summary>Errors, retries and timeout</summary>
      <Field nodeId={node.id} field="on_error" label="On error">
        <select aria-label="On error" value={c.on_error ?? "fail"} onChange={(e) => update({ on_error: e.target.value as OnError })}>
          <option value="fail">Fail the run</option>
          <option value="continue">Continue</option>
          <option value="route">Route to the Error port</option>
        </select>
      </Field>
      <div className="row">
        <Field nodeId={node.id} field="retry.max_attempts" label="Attempts">
          <input
            type="number"
            min={1}
            max={10}
            aria-label="Max attempts"
            value={c.retry?.max_attempts ?? 1}
            onChange={(e) => update({ retry: { ...c.retry, max_attempts: Number(e.target.value) } })}
          />
        </Field>
        <Field nodeId={node.id} field="retry.backoff_s" label="Backoff (s)">
          <input
            type="number"
            min={0}
            aria-label="Backoff seconds"
            value={c.retry?.backoff_s ?? 0}
            onChange={(e) => update({ retry: { ...c.retry, backoff_s: Number(e.target.value) } })}
          />
        </Field>
        <Field nodeId={node.id} field="timeout_s" label="Timeout (s)">
          <input
            type="number"
            min={1}
            aria-label="Timeout seconds"
            value={c.timeout_s ?? ""}
            placeholder="default"
            onChange={(e) => update({ timeout_s: e.target.value ? Number(e.target.value) : undefined })}
          />
        </Field>
      </div>
    </details>
  );
}
