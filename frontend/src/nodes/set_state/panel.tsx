import { ExpressionInput } from "../../fields/ExpressionInput";
import { Field } from "../../fields/Field";
import type { PanelProps } from "../panelTypes";
import type { Assignment, SetStateNode } from "./types";

export function SetStatePanel({ node, update }: PanelProps<SetStateNode>) {
  const list = node.data.config.assignments ?? [];
  const set = (i: number, patch: Partial<Assignment>) => update({ assignments: list.map((a, j) => (j === i ? { ...a, ...patch } : a)) });
  return (
    <Field nodeId={node.id} field="assignments" label="Assignments" hint="Declare variables on Start (state) first.">
      {list.map((a, i) => (
        <div className="kv-row" key={i} data-field={`assignments.${i}.expression`}>
          <input className="kv-key" aria-label={`Variable ${i + 1}`} value={a.variable} onChange={(e) => set(i, { variable: e.target.value })} />
          <ExpressionInput nodeId={node.id} label={`Value for ${a.variable}`} value={a.expression} onChange={(expression) => set(i, { expression })} />
          <button type="button" className="icon-btn" aria-label={`Remove ${a.variable}`} onClick={() => update({ assignments: list.filter((_, j) => j !== i) })}>
            ×
          </button>
        </div>
      ))}
      <button type="button" className="small" onClick={() => update({ assignments: [...list, { variable: "", expression: "" }] })}>
        + Add assignment
      </button>
    </Field>
  );
}
