import { Field } from "../../editor/fields/Field";
import { KeyValueExpressions } from "../../editor/fields/KeyValueExpressions";
import { SecretPicker } from "../../editor/fields/SecretPicker";
import type { AuthRef } from "../http_request/types";
import type { PanelProps } from "../panelTypes";
import type { McpNode } from "./types";

export function McpPanel({ node, update }: PanelProps<McpNode>) {
  const c = node.data.config;
  return (
    <>
      <Field nodeId={node.id} field="server_url" label="Server URL">
        <input aria-label="Server URL" value={c.server_url ?? ""} onChange={(e) => update({ server_url: e.target.value })} />
      </Field>
      <Field nodeId={node.id} field="tool" label="Tool">
        <input aria-label="Tool" value={c.tool ?? ""} onChange={(e) => update({ tool: e.target.value })} />
      </Field>
      <KeyValueExpressions nodeId={node.id} field="arguments" label="Arguments" value={c.arguments ?? {}} onChange={(a) => update({ arguments: a })} />
      <Field nodeId={node.id} field="auth" label="Auth (secret)">
        <SecretPicker
          label="MCP auth secret"
          value={(c.auth as AuthRef | null | undefined)?.secret}
          onChange={(secret) => update({ auth: secret ? { type: "bearer", secret } : null })}
        />
      </Field>
    </>
  );
}
