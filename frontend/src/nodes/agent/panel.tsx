import { ExpressionInput } from "../../fields/ExpressionInput";
import { Field } from "../../fields/Field";
import { JsonSchemaEditor } from "../../fields/JsonSchemaEditor";
import { SchemaFields } from "../../fields/SchemaFields";
import type { PanelProps } from "../panelTypes";
import { McpToolsField } from "./McpToolsField";
import type { AgentNode } from "./types";

const HANDLED = ["model", "instructions", "output", "on_error", "retry", "timeout_s"] as const;

export function AgentPanel({ node, update, schema }: PanelProps<AgentNode>) {
  const c = node.data.config;
  const output = c.output ?? { type: "text" };
  return (
    <>
      <Field nodeId={node.id} field="model" label="Model">
        <input type="text" aria-label="Model" value={c.model ?? ""} onChange={(e) => update({ model: e.target.value })} list="model-suggestions" />
        <datalist id="model-suggestions">
          <option value="gpt-4.1-mini" />
          <option value="gpt-4.1" />
          <option value="gpt-5-mini" />
        </datalist>
      </Field>
      <Field nodeId={node.id} field="instructions" label="Instructions" hint="Use {{ … }} to insert values, e.g. {{ workflow.input.message }}.">
        <ExpressionInput nodeId={node.id} label="Instructions" mode="template" rows={5} value={c.instructions ?? ""} onChange={(instructions) => update({ instructions })} />
      </Field>
      <Field nodeId={node.id} field="output" label="Output">
        <select
          aria-label="Output format"
          value={output.type}
          onChange={(e) =>
            update({
              output:
                e.target.value === "json_schema"
                  ? { type: "json_schema", schema: { type: "object", properties: { answer: { type: "string" } }, required: ["answer"] } }
                  : { type: "text" },
            })
          }
        >
          <option value="text">Text</option>
          <option value="json_schema">JSON (structured)</option>
        </select>
        {output.type === "json_schema" && (
          <JsonSchemaEditor label="Agent output schema" value={output.schema} onChange={(s) => update({ output: { type: "json_schema", schema: s } })} />
        )}
      </Field>
      <McpToolsField nodeId={node.id} tools={c.tools ?? []} onChange={(tools) => update({ tools })} />
      <SchemaFields nodeId={node.id} schema={schema} config={c as unknown as Record<string, unknown>} omit={HANDLED} onChange={(p) => update(p)} />
    </>
  );
}
