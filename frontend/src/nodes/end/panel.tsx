import { ExpressionInput } from "../../fields/ExpressionInput";
import { Field } from "../../fields/Field";
import { KeyValueExpressions } from "../../fields/KeyValueExpressions";
import type { PanelProps } from "../panelTypes";
import type { EndNode } from "./types";

export function EndPanel({ node, update }: PanelProps<EndNode>) {
  const out = node.data.config.output;
  if (typeof out === "string") {
    return (
      <Field nodeId={node.id} field="output" label="Output expression">
        <ExpressionInput nodeId={node.id} label="Output expression" value={out} onChange={(output) => update({ output })} />
        <button type="button" className="small" onClick={() => update({ output: { result: out } })}>
          Use named fields instead
        </button>
      </Field>
    );
  }
  return <KeyValueExpressions nodeId={node.id} field="output" label="Output" value={out ?? {}} onChange={(output) => update({ output })} />;
}
