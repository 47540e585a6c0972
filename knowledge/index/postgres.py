"""Keyword index on PostgreSQL: a `tsv` tsvector column on knowledge_chunk (GIN-indexed, added by
migration 0002) and BM25 from stored statistics: document frequency per term and knowledge base
(knowledge_term), the chunk's length in lexemes, and the knowledge base's chunk count and total length.
ts_rank has no IDF and no length normalisation of BM25's kind: SciFact keyword nDCG@10 0.379 against 0.690
(bench/bench_retrieval.py prints both).

Ranking runs in process over the chunks' stored lexeme counts (bm25.py, same formula), because the SQL,
which unnests every matching chunk's tsvector, took 100-250 ms at corpus size; the SQL answers while a
large knowledge base's in-process index is being built."""

from __future__ import annotations

from django.db import connection

from knowledge.index import bm25

K1 = 1.2
B = 0.75
CONFIG = "english"


def add(kb_id, chunk_ids: list[int]) -> tuple[int, int]:
    """Index chunks already stored: fills tsv and length, adds their terms' document frequencies.
    Returns (chunks, total length). Call with the knowledge base row locked (one indexer at a time)."""
    if not chunk_ids:
        return 0, 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE knowledge_chunk c SET tsv = v.tsv,
                   length = (SELECT coalesce(sum(cardinality(u.positions)), 0) FROM unnest(v.tsv) u)
                FROM (SELECT id, to_tsvector('{CONFIG}', text) AS tsv FROM knowledge_chunk WHERE id = ANY(%s)) v
                WHERE c.id = v.id""",
            [chunk_ids],
        )
        cursor.execute(
            """INSERT INTO knowledge_term (knowledge_base_id, term, df)
               SELECT %s, u.lexeme, count(*) FROM knowledge_chunk c, unnest(c.tsv) u
               WHERE c.id = ANY(%s) GROUP BY u.lexeme ORDER BY u.lexeme
               ON CONFLICT (knowledge_base_id, term) DO UPDATE SET df = knowledge_term.df + EXCLUDED.df""",
            [kb_id, chunk_ids],
        )
        cursor.execute("SELECT count(*), coalesce(sum(length), 0) FROM knowledge_chunk WHERE id = ANY(%s)", [chunk_ids])
        count, total = cursor.fetchone()
        # The lexemes with their counts also go into each chunk's row, for the in-process index (bm25.py).
        cursor.execute(
            "SELECT c.id, u.lexeme, cardinality(u.positions) FROM knowledge_chunk c, unnest(c.tsv) u "
            "WHERE c.id = ANY(%s)",
            [chunk_ids],
        )
        terms: dict[int, dict[str, int]] = {chunk_id: {} for chunk_id in chunk_ids}
        for chunk_id, lexeme, n in cursor.fetchall():
            terms[chunk_id][lexeme] = n or 1
        packed = [(*bm25.pack(counts)[:2], chunk_id) for chunk_id, counts in terms.items()]
        cursor.executemany("UPDATE knowledge_chunk SET term_hashes = %s, term_counts = %s WHERE id = %s", packed)
    return int(count), int(total)


def remove(kb_id, chunk_ids: list[int]) -> tuple[int, int]:
    """Subtract the chunks' terms from the statistics (before the rows are deleted)."""
    if not chunk_ids:
        return 0, 0
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE knowledge_term t SET df = t.df - d.n
               FROM (SELECT u.lexeme, count(*) AS n FROM knowledge_chunk c, unnest(c.tsv) u
                     WHERE c.id = ANY(%s) GROUP BY u.lexeme) d
               WHERE t.knowledge_base_id = %s AND t.term = d.lexeme""",
            [chunk_ids, kb_id],
        )
        cursor.execute("DELETE FROM knowledge_term WHERE knowledge_base_id = %s AND df <= 0", [kb_id])
        cursor.execute(
            "SELECT count(*), coalesce(sum(length), 0) FROM knowledge_chunk WHERE id = ANY(%s) AND tsv IS NOT NULL",
            [chunk_ids],
        )
        count, total = cursor.fetchone()
    return int(count), int(total)


def drop(kb_id) -> None:
    """Rows go with the knowledge base (ON DELETE CASCADE through the ORM)."""


def search(kb, query: str, limit: int, file_ids: list[str] | None) -> list[tuple[int, float]]:
    if kb.chunk_count <= 0:
        return []
    if file_ids is not None and not file_ids:
        return []
    return bm25.search(
        kb,
        hashes=lambda: [bm25.term_hash(t) for t in lexemes(query)],
        limit=limit,
        file_ids=file_ids,
        fallback=lambda: search_sql(kb, query, limit, file_ids),
    )


def lexemes(query: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT lexeme FROM unnest(to_tsvector('{CONFIG}', %s))", [query])
        return [row[0] for row in cursor.fetchall()]


def search_sql(kb, query: str, limit: int, file_ids: list[str] | None) -> list[tuple[int, float]]:
    """BM25 in SQL from the stored statistics: the answer while the in-process index is being built."""
    avgdl = max(kb.total_length / kb.chunk_count, 1.0)
    file_filter = "AND c.file_id = ANY(%(files)s::uuid[])" if file_ids is not None else ""
    sql = f"""
        WITH q AS (
            SELECT t.term, greatest(ln((%(n)s - t.df + 0.5) / (t.df + 0.5)), 1e-6) AS idf
            FROM knowledge_term t
            WHERE t.knowledge_base_id = %(kb)s
              AND t.term IN (SELECT lexeme FROM unnest(to_tsvector('{CONFIG}', %(query)s)))
        ), tsq AS (
            SELECT string_agg(quote_literal(term), ' | ')::tsquery AS query FROM q
        )
        SELECT c.id, sum(q.idf * (cardinality(u.positions) * {K1 + 1})
                         / (cardinality(u.positions) + {K1} * ({1 - B} + {B} * c.length / %(avgdl)s))) AS score
        FROM tsq, knowledge_chunk c
        CROSS JOIN LATERAL unnest(c.tsv) AS u
        JOIN q ON q.term = u.lexeme
        WHERE c.knowledge_base_id = %(kb)s AND c.tsv @@ tsq.query {file_filter}
        GROUP BY c.id
        ORDER BY score DESC, c.id
        LIMIT %(limit)s
    """
    params = {"n": kb.chunk_count, "kb": kb.id, "query": query, "avgdl": avgdl, "limit": limit}
    if file_ids is not None:
        params["files"] = [str(f) for f in file_ids]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(int(row[0]), float(row[1])) for row in cursor.fetchall()]


def search_ts_rank(kb, query: str, limit: int) -> list[tuple[int, float]]:
    """PostgreSQL's own ts_rank_cd ranking, kept only so the benchmark can compare it with BM25."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH tsq AS (
                    SELECT string_agg(quote_literal(lexeme), ' | ')::tsquery AS query
                    FROM unnest(to_tsvector('{CONFIG}', %(query)s)))
                SELECT c.id, ts_rank_cd(c.tsv, tsq.query, 1) AS score FROM tsq, knowledge_chunk c
                WHERE c.knowledge_base_id = %(kb)s AND c.tsv @@ tsq.query
                ORDER BY score DESC, c.id LIMIT %(limit)s""",
            {"kb": kb.id, "query": query, "limit": limit},
        )
        return [(int(row[0]), float(row[1])) for row in cursor.fetchall()]
