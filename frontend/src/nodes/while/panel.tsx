import { ExpressionInput } from "../../fields/ExpressionInput";
import { Field } from "../../fields/Field";
import type { PanelProps } from "../panelTypes";
import type { WhileNode } from "./types";

export function WhilePanel({ node, update }: PanelProps<WhileNode>) {
  const c = node.data.config;
  return (
    <>
      <Field nodeId={node.id} field="condition" label="Loop while" hint="Connect the Loop port to the body and lead the body back into this node.">
        <ExpressionInput nodeId={node.id} label="Loop condition" value={c.condition ?? ""} onChange={(condition) => update({ condition })} />
      </Field>
      <Field nodeId={node.id} field="max_iterations" label="Max iterations">
        <input type="number" min={1} aria-label="Max iterations" value={c.max_iterations ?? 10} onChange={(e) => update({ max_iterations: Number(e.target.value) })} />
      </Field>
    </>
  );
}
