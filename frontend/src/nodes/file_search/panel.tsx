import { ExpressionInput } from "../../editor/fields/ExpressionInput";
import { Field } from "../../editor/fields/Field";
import type { PanelProps } from "../panelTypes";
import type { FileSearchNode } from "./types";

export function FileSearchPanel({ node, update }: PanelProps<FileSearchNode>) {
  const c = node.data.config;
  return (
    <>
      <Field nodeId={node.id} field="knowledge_base" label="Knowledge base">
        <input aria-label="Knowledge base" value={c.knowledge_base ?? ""} onChange={(e) => update({ knowledge_base: e.target.value })} />
      </Field>
      <Field nodeId={node.id} field="query" label="Query">
        <ExpressionInput nodeId={node.id} label="Query" mode="template" rows={2} value={c.query ?? ""} onChange={(query) => update({ query })} />
      </Field>
      <Field nodeId={node.id} field="top_k" label="Results (top k)">
        <input type="number" min={1} max={50} aria-label="Top k" value={c.top_k ?? 5} onChange={(e) => update({ top_k: Number(e.target.value) })} />
      </Field>
    </>
  );
}
