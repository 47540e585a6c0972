/** A map of output key → CEL expression (End output, Transform output, MCP arguments). */
import { ExpressionInput } from "./ExpressionInput";
import { Field } from "./Field";

export function KeyValueExpressions({
  nodeId,
  field,
  label,
  value,
  onChange,
}: {
  nodeId: string;
  field: string;
  label: string;
  value: Record<string, string>;
  onChange: (next: Record<string, string>) => void;
}) {
  const entries = Object.entries(value ?? {});
  const setAt = (index: number, key: string, expr: string) => {
    const next = entries.map(([k, v], i) => (i === index ? [key, expr] : [k, v]));
    onChange(Object.fromEntries(next));
  };
  const remove = (index: number) => onChange(Object.fromEntries(entries.filter((_, i) => i !== index)));
  const add = () => {
    let k = "key";
    for (let i = 2; k in (value ?? {}); i++) k = `key_${i}`;
    onChange({ ...(value ?? {}), [k]: "" });
  };
  return (
    <Field nodeId={nodeId} field={field} label={label}>
      <div className="kv-list">
        {entries.map(([k, v], i) => (
          <div className="kv-row" key={i} data-field={`${field}.${k}`}>
            <input className="kv-key" aria-label={`${label} key ${i + 1}`} value={k} onChange={(e) => setAt(i, e.target.value, v)} />
            <ExpressionInput nodeId={nodeId} label={`${label} ${k}`} value={v} onChange={(x) => setAt(i, k, x)} />
            <button type="button" className="icon-btn" aria-label={`Remove ${k}`} onClick={() => remove(i)}>
              ×
            </button>
          </div>
        ))}
        <button type="button" className="small" onClick={add}>
          + Add field
        </button>
      </div>
    </Field>
  );
}
