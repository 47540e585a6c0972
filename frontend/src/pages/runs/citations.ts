/** Citations in the run detail: what a file_search step (node) or an agent's file_search tool call
 * searched for and the ranked chunks it got, each with a link to its file. */
import type { StepRecord } from "../../api/screens";

export interface Citation {
  file_id: string;
  file_name: string;
  chunk_id: string;
  score: number;
  page: number | null;
  heading: string | null;
  text: string;
}

export interface CitationGroup {
  /** "File search" for the node, else the agent's tool name. */
  source: string;
  query: string;
  knowledgeBaseId: string;
  citations: Citation[];
}

type Row = Record<string, unknown>;
const isRow = (v: unknown): v is Row => typeof v === "object" && v !== null && !Array.isArray(v);

function citation(r: Row): Citation | null {
  if (typeof r.file_id !== "string" || typeof r.chunk_id !== "string") return null;
  const meta = isRow(r.metadata) ? r.metadata : {};
  return {
    file_id: r.file_id,
    file_name: typeof r.file_name === "string" ? r.file_name : r.file_id,
    chunk_id: r.chunk_id,
    score: typeof r.score === "number" ? r.score : 0,
    page: typeof meta.page === "number" ? meta.page : null,
    heading: typeof meta.heading === "string" ? meta.heading : null,
    text: typeof r.text === "string" ? r.text : "",
  };
}

function group(source: string, query: unknown, kb: unknown, rows: unknown): CitationGroup | null {
  if (typeof query !== "string" || typeof kb !== "string" || !Array.isArray(rows)) return null;
  const citations = rows.filter(isRow).map(citation).filter((c): c is Citation => c !== null);
  return { source, query, knowledgeBaseId: kb, citations };
}

export function citationGroups(step: StepRecord): CitationGroup[] {
  const out: CitationGroup[] = [];
  if (step.node_type === "file_search" && isRow(step.output)) {
    const g = group("File search", step.output.query, step.output.knowledge_base_id, step.output.results);
    if (g) out.push(g);
  }
  const calls = isRow(step.usage) && Array.isArray(step.usage.tool_calls) ? step.usage.tool_calls : [];
  for (const call of calls) {
    if (!isRow(call) || !("citations" in call)) continue;
    const g = group(`Tool ${String(call.name)}`, call.query, call.knowledge_base_id, call.citations);
    if (g) out.push(g);
  }
  return out;
}

/** The stored file, opened at the chunk's page when it has one (the browser's PDF viewer reads #page=). */
export function fileHref(kbId: string, c: Pick<Citation, "file_id" | "page">): string {
  const base = `/api/v1/knowledge-bases/${kbId}/files/${c.file_id}/content`;
  return c.page !== null ? `${base}#page=${c.page}` : base;
}
