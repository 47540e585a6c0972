"""The `file_search` node: ranked chunks from a workspace knowledge base (DESIGN §9).

Output: {"query", "knowledge_base_id", "results": [{file_id, file_name, chunk_id, score, text, metadata}]};
the step's output is what the trace shows, so the run detail lists the query and the ranked chunks, each
linked to its file (GET /api/v1/knowledge-bases/<knowledge_base_id>/files/<file_id>/content).

Asynchronous: the search's database reads run on the run's thread (`prepare`, `ctx.blocking`) and the query's
embedding, a network call, on the I/O loop, so a search waiting for its embedding holds no thread. The agent's
file_search tool searches the same way (`plan_knowledge_search`, then `search_planned`)."""

from __future__ import annotations

import asyncio

from knowledge.embedding import embed_query
from knowledge.selectors import (
    Search,
    embedding_failed,
    keyword_ranking,
    knowledge_base_get,
    plan_search,
    ranked_chunks,
)
from runs.executors.base import NodeContext, NodeError, NodeExecutor, NodeResult, register
from trellis.errors import ApplicationError

DEFAULT_TOP_K = 5


def plan_knowledge_search(
    ctx: NodeContext, *, ref: str, query: str, top_k: int, mode: str = "hybrid", filters=None
) -> Search:
    """The knowledge base `ref` of the run's workspace and what searching it needs (database reads)."""
    kb = knowledge_base_get(workspace_id=ctx.workspace_id, ref=ref) if ref else None
    if kb is None:
        raise NodeError(f"No knowledge base {ref!r} in this workspace.", code="knowledge_base_not_found")
    try:
        return plan_search(knowledge_base=kb, query=query, top_k=top_k, mode=mode, filters=filters or None)
    except ApplicationError as exc:
        raise _node_error(exc) from None


async def search_planned(ctx: NodeContext, plan: Search) -> list[dict]:
    """The ranked chunks: the keyword ranking is read on the run's thread while the query is embedded here."""
    embedding = asyncio.ensure_future(embed_query(plan.kb, plan.query, plan.provider)) if plan.provider else None
    try:
        keyword = await ctx.blocking(keyword_ranking, plan)
        query_vector = None
        if embedding is not None:
            try:
                query_vector = await embedding
            except Exception as exc:
                embedding_failed(plan, exc)
        return await ctx.blocking(ranked_chunks, plan, keyword, query_vector)
    except ApplicationError as exc:
        raise _node_error(exc) from None
    finally:
        if embedding is not None and not embedding.done():
            embedding.cancel()  # the step failed or was cancelled before the embedding came back


def _node_error(exc: ApplicationError) -> NodeError:
    return NodeError(exc.message, code=exc.code, retryable=exc.status >= 500)


@register
class FileSearchExecutor(NodeExecutor):
    type = "file_search"
    is_async = True

    def prepare(self, ctx: NodeContext) -> Search:
        cfg = ctx.config
        query = ctx.render(str(cfg.get("query") or "")).strip()
        if not query:
            raise NodeError("The query is empty.", code="empty_query")
        return plan_knowledge_search(
            ctx,
            ref=str(cfg.get("knowledge_base") or "").strip(),
            query=query,
            top_k=int(cfg.get("top_k") or DEFAULT_TOP_K),
            mode=str(cfg.get("mode") or "hybrid"),
            filters=cfg.get("filters"),
        )

    async def run_async(self, ctx: NodeContext) -> NodeResult:
        plan: Search = ctx.prepared
        results = await search_planned(ctx, plan)
        return NodeResult(output={"query": plan.query, "knowledge_base_id": str(plan.kb.id), "results": results})
