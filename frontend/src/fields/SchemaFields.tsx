/**
 * Form fields generated from a node type's config JSON Schema (GET /api/v1/node-types), for every
 * property a hand-made panel does not cover. Expressions and templates get the expression editor.
 */
import type { JsonSchema } from "../nodes/common";
import { ExpressionInput } from "./ExpressionInput";
import { Field } from "./Field";
import { SecretPicker } from "./SecretPicker";

const title = (key: string, s: JsonSchema) => s.title ?? key.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());

function widgetOf(key: string, s: JsonSchema): string {
  const hint = String(s["x-trellis"] ?? s["x-widget"] ?? s.format ?? "");
  if (/template/.test(hint)) return "template";
  if (/cel|expression/.test(hint)) return "cel";
  if (/secret/.test(hint) || key === "auth") return "secret";
  if (s.enum) return "enum";
  const t = Array.isArray(s.type) ? s.type.find((x) => x !== "null") : s.type;
  if (t === "boolean") return "boolean";
  if (t === "number" || t === "integer") return "number";
  if (t === "string") return "string";
  return "json";
}

export function SchemaFields({
  nodeId,
  schema,
  config,
  omit,
  onChange,
}: {
  nodeId: string;
  schema: JsonSchema | undefined;
  config: Record<string, unknown>;
  omit: readonly string[];
  onChange: (patch: Record<string, unknown>) => void;
}) {
  if (!schema?.properties) return null;
  const keys = Object.keys(schema.properties).filter((k) => !omit.includes(k));
  if (!keys.length) return null;
  return (
    <>
      {keys.map((key) => {
        const s = schema.properties![key];
        const value = config[key];
        const label = title(key, s);
        const widget = widgetOf(key, s);
        return (
          <Field key={key} nodeId={nodeId} field={key} label={label} hint={s.description}>
            {widget === "cel" || widget === "template" ? (
              <ExpressionInput nodeId={nodeId} label={label} mode={widget} value={String(value ?? "")} onChange={(v) => onChange({ [key]: v })} />
            ) : widget === "secret" ? (
              <SecretPicker label={label} value={(value as { secret?: string } | null)?.secret} onChange={(v) => onChange({ [key]: v ? { type: "bearer", secret: v } : null })} />
            ) : widget === "enum" ? (
              <select aria-label={label} value={String(value ?? s.default ?? "")} onChange={(e) => onChange({ [key]: e.target.value || undefined })}>
                <option value="">—</option>
                {s.enum!.map((o) => (
                  <option key={String(o)} value={String(o)}>
                    {String(o)}
                  </option>
                ))}
              </select>
            ) : widget === "boolean" ? (
              <input type="checkbox" aria-label={label} checked={!!value} onChange={(e) => onChange({ [key]: e.target.checked })} />
            ) : widget === "number" ? (
              <input
                type="number"
                aria-label={label}
                value={value === undefined || value === null ? "" : String(value)}
                placeholder={s.default !== undefined ? String(s.default) : ""}
                min={s.minimum}
                max={s.maximum}
                onChange={(e) => onChange({ [key]: e.target.value === "" ? undefined : Number(e.target.value) })}
              />
            ) : widget === "string" ? (
              <input type="text" aria-label={label} value={String(value ?? "")} onChange={(e) => onChange({ [key]: e.target.value })} />
            ) : (
              <JsonField label={label} value={value} onChange={(v) => onChange({ [key]: v })} />
            )}
          </Field>
        );
      })}
    </>
  );
}

export function JsonField({ label, value, onChange }: { label: string; value: unknown; onChange: (v: unknown) => void }) {
  return (
    <textarea
      className="code"
      aria-label={label}
      rows={3}
      spellCheck={false}
      defaultValue={value === undefined ? "" : JSON.stringify(value, null, 2)}
      onBlur={(e) => {
        const t = e.target.value.trim();
        if (!t) return onChange(undefined);
        try {
          onChange(JSON.parse(t));
          e.target.classList.remove("invalid");
        } catch {
          e.target.classList.add("invalid");
        }
      }}
    />
  );
}
