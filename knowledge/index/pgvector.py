"""Vectors in PostgreSQL with pgvector, when the server has the `vector` extension (migration 0003 creates
it and the `embedding_vec` column; without it, vector search stays exact with numpy, `vectors.py`).

Knowledge bases differ in dimensions, so the column is an untyped `vector` and each knowledge base gets a
partial HNSW index on the expression `embedding_vec::vector(D)` (pgvector's way to index mixed dimensions),
built when it indexes its first chunks at those dimensions. Vectors are L2-normalised, so the inner product
operator (`<#>`, negative inner product) ranks by cosine similarity.

A search restricted to some files (metadata filters) stays exact: HNSW filters after the graph walk and
could answer fewer than `limit` chunks."""

from __future__ import annotations

import logging
import uuid

import numpy as np
from django.db import connection, transaction

log = logging.getLogger("trellis.knowledge")

COLUMN = "embedding_vec"
# The graph walk's candidate list. Tuned on SciFact's train queries (bench/bench_retrieval.py --db pgvector
# --split train): recall@10 against exact search 0.808 at pgvector's default 40, 0.931 at 100, 0.980 at 200,
# 0.996 at 400, for a top-10 search of 2.7 / 3.5 / 4.9 / 7.4 ms (5,806 chunks, a loaded 2-core machine).
EF_SEARCH = 200
_enabled: dict[str, bool] = {}


def enabled() -> bool:
    """True when this database stores vectors in pgvector (the extension was there at migration time)."""
    if connection.vendor != "postgresql":
        return False
    key = connection.settings_dict["NAME"]
    if key not in _enabled:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM information_schema.columns "
                "WHERE table_name = 'knowledge_chunk' AND column_name = %s)",
                [COLUMN],
            )
            _enabled[key] = bool(cursor.fetchone()[0])
    return _enabled[key]


def install(schema_editor) -> bool:
    """Migration step: the extension and the column, when the server offers pgvector. Returns whether it did."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
        if cursor.fetchone() is None:
            return False
        try:
            with transaction.atomic(using=schema_editor.connection.alias):  # a savepoint: a refusal is not fatal
                cursor.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except Exception as exc:  # e.g. not allowed to create extensions: exact search, as without pgvector
            log.warning("pgvector is available but could not be enabled (%s); vector search stays exact", exc)
            return False
        cursor.execute(f"ALTER TABLE knowledge_chunk ADD COLUMN IF NOT EXISTS {COLUMN} vector")
    return True


def index_name(kb_id, dimensions: int) -> str:
    return f"knowledge_chunk_hnsw_{uuid.UUID(str(kb_id)).hex}_{int(dimensions)}"


def _literal(row: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in row.tolist()) + "]"


def add(chunk_ids: list[int], matrix: np.ndarray) -> None:
    """Store the chunks' vectors (rows of `matrix`, in chunk_ids order). Call inside the indexing transaction."""
    if not chunk_ids:
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE knowledge_chunk SET {COLUMN} = %s::vector WHERE id = %s",
            [(_literal(row), chunk_id) for chunk_id, row in zip(chunk_ids, matrix, strict=True)],
        )


def ensure_index(kb_id, dimensions: int) -> None:
    """The knowledge base's HNSW index for these dimensions (an earlier configuration's is dropped). Call in
    the indexing transaction before it writes chunks: PostgreSQL cannot build an index on a table with
    pending (deferred foreign key) trigger events."""
    with connection.cursor() as cursor:
        _ensure_index(cursor, kb_id, dimensions)


def _ensure_index(cursor, kb_id, dimensions: int) -> None:
    kb = str(uuid.UUID(str(kb_id)))  # a UUID, so safe to inline: a partial index needs a constant predicate
    name = index_name(kb, dimensions)
    cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE %s", [f"{index_name(kb, 0)[:-1]}%"])
    existing = [row[0] for row in cursor.fetchall()]
    for old in existing:
        if old != name:  # an earlier embedding configuration's index
            cursor.execute(f'DROP INDEX IF EXISTS "{old}"')
    if name not in existing:
        cursor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON knowledge_chunk USING hnsw '
            f"(({COLUMN}::vector({dimensions})) vector_ip_ops) "
            f"WHERE knowledge_base_id = '{kb}'::uuid AND vector_dims({COLUMN}) = {dimensions}"
        )


def drop(kb_id) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE %s", [f"{index_name(kb_id, 0)[:-1]}%"])
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')


def search(kb, query_vector: np.ndarray, limit: int) -> list[tuple[int, float]]:
    """(chunk id, cosine similarity), best first, through the knowledge base's HNSW index."""
    dimensions = int(kb.embedding_dimensions)
    kb_id = str(uuid.UUID(str(kb.id)))
    vector = _literal(np.asarray(query_vector, dtype=np.float32))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL hnsw.ef_search = {max(EF_SEARCH, int(limit))}")
        # The predicate is the partial index's, constants inlined, so the planner can use the index.
        cursor.execute(
            f"SELECT id, -({COLUMN}::vector({dimensions}) <#> %s::vector({dimensions})) FROM knowledge_chunk "
            f"WHERE knowledge_base_id = '{kb_id}'::uuid AND vector_dims({COLUMN}) = {dimensions} "
            f"ORDER BY {COLUMN}::vector({dimensions}) <#> %s::vector({dimensions}) LIMIT %s",
            [vector, vector, int(limit)],
        )
        return [(int(chunk_id), float(score)) for chunk_id, score in cursor.fetchall()]


def explain(kb, query_vector: np.ndarray, limit: int) -> str:
    """The plan of `search` (tests check that it walks the HNSW index)."""
    dimensions = int(kb.embedding_dimensions)
    kb_id = str(uuid.UUID(str(kb.id)))
    vector = _literal(np.asarray(query_vector, dtype=np.float32))
    with connection.cursor() as cursor:
        cursor.execute(
            f"EXPLAIN SELECT id FROM knowledge_chunk "
            f"WHERE knowledge_base_id = '{kb_id}'::uuid AND vector_dims({COLUMN}) = {dimensions} "
            f"ORDER BY {COLUMN}::vector({dimensions}) <#> %s::vector({dimensions}) LIMIT %s",
            [vector, int(limit)],
        )
        return "\n".join(row[0] for row in cursor.fetchall())
