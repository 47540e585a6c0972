/** Validation issues; clicking one selects the node and focuses the field. */
import { useMemo } from "react";
import { useShallow } from "zustand/react/shallow";
import { useEditor } from "./store";

export function IssuesPanel({ onPick }: { onPick?: () => void }) {
  const { issues, nodes, selectOnly, validatedAt } = useEditor(
    useShallow((s) => ({ issues: s.issues, nodes: s.nodes, selectOnly: s.selectOnly, validatedAt: s.validatedAt })),
  );
  const names = useMemo(() => Object.fromEntries(nodes.map((n) => [n.id, n.data.name])) as Record<string, string>, [nodes]);
  if (!validatedAt) return <p className="muted pad">Checking the workflow…</p>;
  if (!issues.length)
    return (
      <p className="pad ok-text" role="status">
        ✓ No problems found. You can publish.
      </p>
    );
  return (
    <ul className="issues" aria-label="Validation issues">
      {issues.map((i, k) => (
        <li key={k}>
          <button
            type="button"
            className={`issue issue-${i.severity}`}
            onClick={() => {
              if (!i.node_id) return;
              selectOnly([i.node_id], i.field);
              onPick?.();
            }}
            disabled={!i.node_id}
          >
            <span className="issue-sev">{i.severity === "error" ? "Error" : "Warning"}</span>
            {i.node_id && <span className="issue-node">{names[i.node_id] ?? i.node_id}</span>}
            {i.field && <code className="issue-field">{i.field}</code>}
            <span className="issue-msg">{i.message}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}
