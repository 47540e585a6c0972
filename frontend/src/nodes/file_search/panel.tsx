import { useQuery } from "@tanstack/react-query";
import { listKnowledgeBases } from "../../api/knowledge";
import { ExpressionInput } from "../../fields/ExpressionInput";
import { Field } from "../../fields/Field";
import type { PanelProps } from "../panelTypes";
import type { FileSearchNode } from "./types";

export function FileSearchPanel({ node, update }: PanelProps<FileSearchNode>) {
  const c = node.data.config;
  // The workspace's knowledge bases as suggestions; the field still takes any id or name.
  const kbs = useQuery({ queryKey: ["knowledge-bases", "names"], queryFn: listKnowledgeBases, staleTime: 30_000 });
  const tags = (c.filters?.tags ?? []).join(", ");
  return (
    <>
      <Field nodeId={node.id} field="knowledge_base" label="Knowledge base">
        <input
          aria-label="Knowledge base"
          list={`kb-names-${node.id}`}
          value={c.knowledge_base ?? ""}
          onChange={(e) => update({ knowledge_base: e.target.value })}
        />
        <datalist id={`kb-names-${node.id}`}>
          {(kbs.data ?? []).map((kb) => (
            <option key={kb.id} value={kb.name} />
          ))}
        </datalist>
      </Field>
      <Field nodeId={node.id} field="query" label="Query">
        <ExpressionInput nodeId={node.id} label="Query" mode="template" rows={2} value={c.query ?? ""} onChange={(query) => update({ query })} />
      </Field>
      <Field nodeId={node.id} field="mode" label="Mode">
        <select aria-label="Mode" value={c.mode ?? "hybrid"} onChange={(e) => update({ mode: e.target.value as FileSearchNode["data"]["config"]["mode"] })}>
          <option value="hybrid">Hybrid (keyword + vector)</option>
          <option value="keyword">Keyword (BM25)</option>
          <option value="vector">Vector</option>
        </select>
      </Field>
      <Field nodeId={node.id} field="top_k" label="Results (top k)">
        <input type="number" min={1} max={50} aria-label="Top k" value={c.top_k ?? 5} onChange={(e) => update({ top_k: Number(e.target.value) })} />
      </Field>
      <Field nodeId={node.id} field="filters" label="Only files tagged">
        <input
          aria-label="Tags filter"
          placeholder="e.g. billing, hr"
          value={tags}
          onChange={(e) => {
            const list = e.target.value.split(",").map((t) => t.trim()).filter(Boolean);
            update({ filters: list.length ? { ...c.filters, tags: list } : { ...c.filters, tags: undefined } });
          }}
        />
      </Field>
    </>
  );
}
