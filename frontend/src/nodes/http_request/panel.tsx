import { ExpressionInput } from "../../editor/fields/ExpressionInput";
import { Field } from "../../editor/fields/Field";
import { SchemaFields } from "../../editor/fields/SchemaFields";
import { SecretPicker } from "../../editor/fields/SecretPicker";
import type { PanelProps } from "../panelTypes";
import type { HttpRequestConfig, HttpRequestNode } from "./types";

const METHODS: HttpRequestConfig["method"][] = ["GET", "POST", "PUT", "PATCH", "DELETE"];
const HANDLED = ["method", "url", "auth", "on_error", "retry", "timeout_s"] as const;

export function HttpRequestPanel({ node, update, schema }: PanelProps<HttpRequestNode>) {
  const c = node.data.config;
  return (
    <>
      <Field nodeId={node.id} field="method" label="Method">
        <select aria-label="Method" value={c.method} onChange={(e) => update({ method: e.target.value as HttpRequestConfig["method"] })}>
          {METHODS.map((m) => (
            <option key={m}>{m}</option>
          ))}
        </select>
      </Field>
      <Field nodeId={node.id} field="url" label="URL">
        <ExpressionInput nodeId={node.id} label="URL" mode="template" rows={1} value={c.url ?? ""} onChange={(url) => update({ url })} />
      </Field>
      <Field nodeId={node.id} field="auth" label="Bearer token (secret)" hint="Sent as Authorization: Bearer <secret>.">
        <SecretPicker
          label="Auth secret"
          value={c.auth?.token}
          onChange={(v) => update({ auth: v ? { type: "bearer", token: v } : null })}
        />
      </Field>
      <SchemaFields nodeId={node.id} schema={schema} config={c as unknown as Record<string, unknown>} omit={HANDLED} onChange={(p) => update(p)} />
    </>
  );
}
