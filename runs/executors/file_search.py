"""The `file_search` node: ranked chunks from a workspace knowledge base (DESIGN §9).

Output: {"query", "knowledge_base_id", "results": [{file_id, file_name, chunk_id, score, text, metadata}]};
the step's output is what the trace shows, so the run detail lists the query and the ranked chunks, each
linked to its file (GET /api/v1/knowledge-bases/<knowledge_base_id>/files/<file_id>/content)."""

from __future__ import annotations

from knowledge.selectors import knowledge_base_get, search
from runs.executors.base import NodeContext, NodeError, NodeExecutor, NodeResult, register
from trellis.errors import ApplicationError

DEFAULT_TOP_K = 5


def search_knowledge_base(
    ctx: NodeContext, *, ref: str, query: str, top_k: int, mode: str = "hybrid", filters=None
) -> tuple[str, list[dict]]:
    """(knowledge base id, results). Shared by the node and the agent's file_search tool."""

    kb = knowledge_base_get(workspace_id=ctx.workspace_id, ref=ref) if ref else None
    if kb is None:
        raise NodeError(f"No knowledge base {ref!r} in this workspace.", code="knowledge_base_not_found")
    try:
        return str(kb.id), search(knowledge_base=kb, query=query, top_k=top_k, mode=mode, filters=filters or None)
    except ApplicationError as exc:
        raise NodeError(exc.message, code=exc.code, retryable=exc.status >= 500) from None


@register
class FileSearchExecutor(NodeExecutor):
    type = "file_search"

    def run(self, ctx: NodeContext) -> NodeResult:
        cfg = ctx.config
        query = ctx.render(str(cfg.get("query") or "")).strip()
        if not query:
            raise NodeError("The query is empty.", code="empty_query")
        kb_id, results = search_knowledge_base(
            ctx,
            ref=str(cfg.get("knowledge_base") or "").strip(),
            query=query,
            top_k=int(cfg.get("top_k") or DEFAULT_TOP_K),
            mode=str(cfg.get("mode") or "hybrid"),
            filters=cfg.get("filters"),
        )
        return NodeResult(output={"query": query, "knowledge_base_id": kb_id, "results": results})
