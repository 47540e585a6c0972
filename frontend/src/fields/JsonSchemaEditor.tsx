/** Edits a JSON Schema object: a form of properties (name, type, required, description) or the raw JSON. */
import { useEffect, useState } from "react";
import type { JsonSchema } from "../nodes/common";

const TYPES = ["string", "number", "integer", "boolean", "object", "array"];

export function JsonSchemaEditor({ value, onChange, label }: { value: JsonSchema; onChange: (s: JsonSchema) => void; label: string }) {
  const [raw, setRaw] = useState(false);
  const [text, setText] = useState(() => JSON.stringify(value ?? {}, null, 2));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!raw) setText(JSON.stringify(value ?? {}, null, 2));
  }, [value, raw]);

  const props = Object.entries(value?.properties ?? {});
  const required = new Set(value?.required ?? []);
  const write = (entries: [string, JsonSchema][], req: Set<string>) =>
    onChange({
      ...value,
      type: "object",
      properties: Object.fromEntries(entries),
      required: entries.map(([k]) => k).filter((k) => req.has(k)),
    });
  const update = (i: number, name: string, schema: JsonSchema, isRequired: boolean) => {
    const oldName = props[i][0];
    const entries = props.map(([k, v], j) => (j === i ? ([name, schema] as [string, JsonSchema]) : ([k, v] as [string, JsonSchema])));
    const req = new Set(required);
    req.delete(oldName);
    if (isRequired) req.add(name);
    write(entries, req);
  };
  const add = () => {
    let n = "field";
    for (let i = 2; props.some(([k]) => k === n); i++) n = `field_${i}`;
    write([...props, [n, { type: "string" }]], required);
  };
  const remove = (i: number) => write(props.filter((_, j) => j !== i), required);

  return (
    <div className="schema-editor" role="group" aria-label={label}>
      <div className="seg" role="tablist" aria-label={`${label} view`}>
        <button type="button" role="tab" aria-selected={!raw} className={!raw ? "active" : ""} onClick={() => setRaw(false)}>
          Form
        </button>
        <button type="button" role="tab" aria-selected={raw} className={raw ? "active" : ""} onClick={() => setRaw(true)}>
          JSON
        </button>
      </div>
      {raw ? (
        <>
          <textarea
            className="code"
            aria-label={`${label} (JSON)`}
            rows={10}
            spellCheck={false}
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              try {
                const parsed = JSON.parse(e.target.value) as JsonSchema;
                setError(null);
                onChange(parsed);
              } catch (err) {
                setError((err as Error).message);
              }
            }}
          />
          {error && <div className="field-error">{error}</div>}
        </>
      ) : (
        <div className="schema-props">
          {props.length === 0 && <p className="muted small-text">No fields yet.</p>}
          {props.map(([name, schema], i) => (
            <div className="schema-prop" key={i}>
              <input aria-label={`Field ${i + 1} name`} value={name} onChange={(e) => update(i, e.target.value, schema, required.has(name))} />
              <select
                aria-label={`Field ${name} type`}
                value={String(schema.type ?? "string")}
                onChange={(e) => update(i, name, { ...schema, type: e.target.value }, required.has(name))}
              >
                {TYPES.map((t) => (
                  <option key={t}>{t}</option>
                ))}
              </select>
              <label className="check" title="Required">
                <input
                  type="checkbox"
                  aria-label={`Field ${name} required`}
                  checked={required.has(name)}
                  onChange={(e) => update(i, name, schema, e.target.checked)}
                />
                req.
              </label>
              <button type="button" className="icon-btn" aria-label={`Remove field ${name}`} onClick={() => remove(i)}>
                ×
              </button>
            </div>
          ))}
          <button type="button" className="small" onClick={add}>
            + Add field
          </button>
        </div>
      )}
    </div>
  );
}
