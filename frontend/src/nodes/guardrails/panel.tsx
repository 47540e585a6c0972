import { ExpressionInput } from "../../fields/ExpressionInput";
import { Field } from "../../fields/Field";
import { JsonField } from "../../fields/SchemaFields";
import type { PanelProps } from "../panelTypes";
import type { GuardrailCheck, GuardrailsNode } from "./types";

const KINDS: GuardrailCheck["type"][] = ["pii", "moderation", "jailbreak", "custom"];

export function GuardrailsPanel({ node, update }: PanelProps<GuardrailsNode>) {
  const c = node.data.config;
  const checks = c.checks ?? [];
  return (
    <>
      <Field nodeId={node.id} field="text" label="Text to check">
        <ExpressionInput nodeId={node.id} label="Text to check" value={c.text ?? ""} onChange={(text) => update({ text })} />
      </Field>
      <Field nodeId={node.id} field="checks" label="Checks">
        {KINDS.map((k) => (
          <label className="check" key={k}>
            <input
              type="checkbox"
              checked={checks.some((x) => x.type === k)}
              onChange={(e) => update({ checks: e.target.checked ? [...checks, { type: k }] : checks.filter((x) => x.type !== k) })}
            />
            {k}
          </label>
        ))}
        <details>
          <summary>Edit checks as JSON</summary>
          <JsonField key={JSON.stringify(checks)} label="Checks (JSON)" value={checks} onChange={(v) => update({ checks: (v ?? []) as GuardrailCheck[] })} />
        </details>
      </Field>
    </>
  );
}
