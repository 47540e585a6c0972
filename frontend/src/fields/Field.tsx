/** A labelled inspector field that shows its validation issues inline. */
import type { ReactNode } from "react";
import { useShallow } from "zustand/react/shallow";
import { useNodeView } from "./context";
import { issuesForField } from "./issues";

export function useFieldIssues(nodeId: string, field: string) {
  return useNodeView(useShallow((s) => issuesForField(s.issuesByNode[nodeId], field).map((i) => i.message)));
}

export function Field({
  nodeId,
  field,
  label,
  hint,
  children,
  extraError,
}: {
  nodeId: string;
  field: string;
  label: string;
  hint?: ReactNode;
  children: ReactNode;
  extraError?: string | null;
}) {
  const messages = useFieldIssues(nodeId, field);
  const all = extraError ? [extraError, ...messages] : messages;
  return (
    <div className={all.length ? "field has-error" : "field"} data-field={field}>
      <div className="field-label">{label}</div>
      {children}
      {hint && <div className="field-hint">{hint}</div>}
      {all.map((m, i) => (
        <div key={i} className="field-error" role="alert">
          {m}
        </div>
      ))}
    </div>
  );
}
