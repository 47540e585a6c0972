import { Field } from "../../fields/Field";
import { JsonSchemaEditor } from "../../fields/JsonSchemaEditor";
import { JsonField } from "../../fields/SchemaFields";
import type { PanelProps } from "../panelTypes";
import type { StartNode } from "./types";

export function StartPanel({ node, update }: PanelProps<StartNode>) {
  const c = node.data.config;
  return (
    <>
      <Field nodeId={node.id} field="input_schema" label="Run input" hint="The fields a run must be given; checked before the run starts.">
        <JsonSchemaEditor label="Run input schema" value={c.input_schema} onChange={(input_schema) => update({ input_schema })} />
      </Field>
      <Field nodeId={node.id} field="state" label="State variables (JSON, initial values)" hint="Readable as state.<name> in any expression.">
        <JsonField key={JSON.stringify(c.state ?? {})} label="State variables" value={c.state ?? {}} onChange={(v) => update({ state: (v ?? {}) as Record<string, unknown> })} />
      </Field>
    </>
  );
}
