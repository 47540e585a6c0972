import { ExpressionInput } from "../../fields/ExpressionInput";
import { Field } from "../../fields/Field";
import type { PanelProps } from "../panelTypes";
import type { IfElseCase, IfElseNode } from "./types";

export function IfElsePanel({ node, update }: PanelProps<IfElseNode>) {
  const cases = node.data.config.cases ?? [];
  const set = (i: number, patch: Partial<IfElseCase>) => update({ cases: cases.map((c, j) => (j === i ? { ...c, ...patch } : c)) });
  const add = () => {
    let n = cases.length + 1;
    while (cases.some((c) => c.port === `case_${n}`)) n++;
    update({ cases: [...cases, { port: `case_${n}`, label: `Case ${n}`, condition: "" }] });
  };
  return (
    <Field nodeId={node.id} field="cases" label="Cases" hint="The first case whose condition is true wins; otherwise Else.">
      {cases.map((c, i) => (
        <div className="case" key={i} data-field={`cases.${i}.condition`}>
          <div className="case-head">
            <input aria-label={`Case ${i + 1} label`} value={c.label} onChange={(e) => set(i, { label: e.target.value })} />
            <button type="button" className="icon-btn" aria-label={`Remove case ${c.label}`} onClick={() => update({ cases: cases.filter((_, j) => j !== i) })}>
              ×
            </button>
          </div>
          <ExpressionInput nodeId={node.id} label={`Condition for ${c.label}`} value={c.condition} onChange={(condition) => set(i, { condition })} />
        </div>
      ))}
      <button type="button" className="small" onClick={add}>
        + Add case
      </button>
    </Field>
  );
}
