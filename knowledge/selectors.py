"""Reads: knowledge bases and files of a workspace, and search (keyword, vector, hybrid)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from django.db.models import Count, Q, QuerySet

from builder.models import Workflow
from knowledge import index
from knowledge.embedding import EmbeddingFailure, embed_texts, provider_for
from knowledge.index import pgvector, vectors
from knowledge.models import Chunk, FileStatus, KnowledgeBase, KnowledgeFile
from trellis.errors import ApplicationError

MODES = ("hybrid", "keyword", "vector")
RRF_K = 60  # the constant of Cormack et al.'s reciprocal rank fusion
_embedder = ThreadPoolExecutor(8, thread_name_prefix="trellis-query-embed")


def knowledge_base_list(*, workspace_id) -> QuerySet[KnowledgeBase]:
    return KnowledgeBase.objects.filter(workspace_id=workspace_id).annotate(
        **{f"files_{status}": Count("files", filter=Q(files__status=status)) for status in FileStatus.values}
    )


def knowledge_base_get(*, workspace_id, ref: str) -> KnowledgeBase | None:
    """By id or by name (the file_search node takes either)."""
    qs = knowledge_base_list(workspace_id=workspace_id)
    try:
        return qs.filter(pk=uuid.UUID(str(ref))).first() or qs.filter(name=ref).first()
    except ValueError:
        return qs.filter(name=ref).first()


def knowledge_base_usage(*, workspace_id, knowledge_bases: list[KnowledgeBase]) -> dict[str, list[dict]]:
    """Which workflows (draft or published graph) refer to each knowledge base, by id or by name, from a
    file_search node or an agent's file_search tool: {kb id: [{workflow_id, workflow_name, nodes}]}."""

    by_ref: dict[str, str] = {}
    for kb in knowledge_bases:
        by_ref[str(kb.id)] = str(kb.id)
        by_ref.setdefault(kb.name, str(kb.id))
    usage: dict[str, list[dict]] = {str(kb.id): [] for kb in knowledge_bases}
    workflows = (
        Workflow.objects.filter(workspace_id=workspace_id, archived_at__isnull=True)
        .select_related("published_version")
        .only("id", "name", "draft_graph", "published_version__graph")
        .order_by("name")
    )
    for workflow in workflows:
        found: dict[str, set[str]] = {}
        graphs = [workflow.draft_graph]
        if workflow.published_version is not None:
            graphs.append(workflow.published_version.graph)
        for graph in graphs:
            for node in (graph or {}).get("nodes") or []:
                config = node.get("config") or {}
                refs = []
                if node.get("type") == "file_search":
                    refs.append(config.get("knowledge_base"))
                elif node.get("type") == "agent":
                    refs += [
                        t.get("knowledge_base") for t in config.get("tools") or [] if t.get("type") == "file_search"
                    ]
                for ref in refs:
                    if isinstance(ref, str) and ref in by_ref:
                        found.setdefault(by_ref[ref], set()).add(str(node.get("id")))
        for kb_id, nodes in found.items():
            usage[kb_id].append(
                {"workflow_id": str(workflow.id), "workflow_name": workflow.name, "nodes": sorted(nodes)}
            )
    return usage


def file_list(*, knowledge_base: KnowledgeBase) -> QuerySet[KnowledgeFile]:
    return KnowledgeFile.objects.filter(knowledge_base=knowledge_base)


def _file_filter(kb: KnowledgeBase, filters: dict | None) -> list[str] | None:
    """The ids of the files a search may return, or None for all of them."""
    if not filters:
        return None
    qs = KnowledgeFile.objects.filter(knowledge_base=kb, status=FileStatus.READY)
    files = filters.get("file_id", filters.get("files"))
    if files is not None:
        files = [files] if isinstance(files, str) else files
        if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            raise ApplicationError("validation_error", "`filters.file_id` must be a file id or name, or a list.")
        ids, names = [], []
        for ref in files:
            try:
                ids.append(uuid.UUID(ref))
            except ValueError:
                names.append(ref)
        qs = qs.filter(Q(pk__in=ids) | Q(name__in=names))
    tags = filters.get("tags", filters.get("tag"))
    if tags is not None:
        tags = [tags] if isinstance(tags, str) else tags
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise ApplicationError("validation_error", "`filters.tags` must be a tag or a list of tags.")
        wanted = set(tags)
        return [str(pk) for pk, file_tags in qs.values_list("pk", "tags") if wanted & set(file_tags or [])]
    return [str(pk) for pk in qs.values_list("pk", flat=True)]


@dataclass
class Search:
    """One search, in the phases its callers interleave with the query's embedding (a network call): `plan_search`
    (database reads), then the keyword ranking (`keyword_ranking`) while the query is embedded, then
    `ranked_chunks`. The search API runs them on its thread (`search`); the file_search node and the agent's
    file_search tool embed on the I/O loop in between (runs/executors/file_search.py)."""

    kb: KnowledgeBase
    query: str
    top_k: int
    mode: str
    allowed: list[str] | None  # the files the filters let through; None: all
    depth: int  # how many each ranking keeps before fusion
    provider: object | None  # whom to ask for the query's embedding; None: no embedding is wanted
    score_threshold: float | None


def plan_search(
    *,
    knowledge_base: KnowledgeBase,
    query: str,
    top_k: int = 10,
    mode: str = "hybrid",
    filters: dict | None = None,
    score_threshold: float | None = None,
) -> Search:
    if mode not in MODES:
        raise ApplicationError("validation_error", f"`mode` must be one of {', '.join(MODES)}.")
    allowed = _file_filter(knowledge_base, filters)
    provider = None
    if mode in ("vector", "hybrid") and query.strip():
        try:
            provider = provider_for(knowledge_base)
        except EmbeddingFailure as exc:
            if mode == "vector":
                raise ApplicationError("embedding_failed", exc.reason, status=502) from None
    return Search(
        kb=knowledge_base,
        query=query,
        top_k=top_k,
        mode=mode,
        allowed=allowed,
        depth=top_k if mode != "hybrid" else max(top_k * 2, 50),
        provider=provider,
        score_threshold=score_threshold,
    )


def keyword_ranking(plan: Search) -> list[tuple[int, float]]:
    if plan.mode not in ("keyword", "hybrid"):
        return []
    return index.backend().search(plan.kb, plan.query, plan.depth, plan.allowed)


def embedding_failed(plan: Search, exc: Exception) -> None:
    """A vector search cannot answer without the query's embedding; a hybrid one still answers from the keyword
    index."""
    if plan.mode == "vector":
        reason = getattr(exc, "reason", None) or "The query could not be embedded."
        raise ApplicationError("embedding_failed", reason, status=502) from None


def ranked_chunks(plan: Search, keyword: list[tuple[int, float]], query_vector: np.ndarray | None) -> list[dict]:
    """Ranked chunks: [{file_id, file_name, chunk_id, score, text, metadata}]. Keyword scores are BM25,
    vector scores cosine similarity, hybrid scores reciprocal-rank-fusion sums."""
    kb, depth = plan.kb, plan.depth
    semantic: list[tuple[int, float]] = []
    if query_vector is not None:
        if plan.allowed is None and pgvector.enabled():  # HNSW in the database (filtered searches stay exact)
            semantic = pgvector.search(kb, query_vector, depth)
        else:
            semantic = vectors.search(kb, query_vector, depth, plan.allowed)
    if plan.mode == "keyword":
        ranked = keyword
    elif plan.mode == "vector":
        ranked = semantic
    else:
        fused: dict[int, float] = {}
        for results in (keyword, semantic):
            for rank, (chunk_id, _score) in enumerate(results, start=1):
                fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank)
        ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
    if plan.score_threshold is not None:
        ranked = [(c, s) for c, s in ranked if s >= plan.score_threshold]
    ranked = ranked[: plan.top_k]
    rows = {
        c.id: c
        for c in Chunk.objects.filter(id__in=[c for c, _ in ranked], knowledge_base_id=kb.id)
        .select_related("file")
        .only("id", "text", "metadata", "ordinal", "file__id", "file__name")
    }
    return [
        {
            "file_id": str(rows[chunk_id].file.id),
            "file_name": rows[chunk_id].file.name,
            "chunk_id": str(chunk_id),
            "score": round(score, 6),
            "text": rows[chunk_id].text,
            "metadata": {**rows[chunk_id].metadata, "ordinal": rows[chunk_id].ordinal},
        }
        for chunk_id, score in ranked
        if chunk_id in rows
    ]


def search(plan: Search) -> list[dict]:
    """Ranked chunks (`ranked_chunks`) for a planned search (`plan_search`), searched on this thread; the query's
    embedding is asked for on another meanwhile."""
    embedding = (
        _embedder.submit(embed_texts, plan.kb, [plan.query], plan.provider) if plan.provider is not None else None
    )
    keyword = keyword_ranking(plan)
    query_vector = None
    if embedding is not None:
        try:
            query_vector = embedding.result()[0]
        except Exception as exc:
            embedding_failed(plan, exc)
    return ranked_chunks(plan, keyword, query_vector)
