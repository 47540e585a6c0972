import { ExpressionInput } from "../../fields/ExpressionInput";
import { Field } from "../../fields/Field";
import { SchemaFields } from "../../fields/SchemaFields";
import { SecretPicker } from "../../fields/SecretPicker";
import type { PanelProps } from "../panelTypes";
import type { HttpRequestConfig, HttpRequestNode } from "./types";

const METHODS: HttpRequestConfig["method"][] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];
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
      <Field nodeId={node.id} field="auth" label="Authentication" hint="The secret's value is never shown or put in expressions.">
        <div className="row">
          <select
            aria-label="Auth type"
            value={c.auth?.type ?? ""}
            onChange={(e) => update({ auth: e.target.value ? { type: e.target.value as "bearer", secret: c.auth?.secret ?? "" } : null })}
          >
            <option value="">None</option>
            <option value="bearer">Bearer token</option>
            <option value="header">Header</option>
            <option value="basic">Basic</option>
          </select>
          {c.auth && (
            <SecretPicker label="Auth secret" value={c.auth.secret} onChange={(secret) => c.auth && update({ auth: { ...c.auth, secret: secret ?? "" } })} />
          )}
        </div>
        {c.auth?.type === "header" && (
          <input aria-label="Header name" placeholder="X-Api-Key" value={c.auth.header ?? ""} onChange={(e) => c.auth && update({ auth: { ...c.auth, header: e.target.value } })} />
        )}
        {c.auth?.type === "basic" && (
          <input aria-label="Username" placeholder="username" value={c.auth.username ?? ""} onChange={(e) => c.auth && update({ auth: { ...c.auth, username: e.target.value } })} />
        )}
      </Field>
      <SchemaFields nodeId={node.id} schema={schema} config={c as unknown as Record<string, unknown>} omit={HANDLED} onChange={(p) => update(p)} />
    </>
  );
}
