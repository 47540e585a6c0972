"""Keyword index on SQLite: an FTS5 table per knowledge base (porter stemming) is the full-text index of
record; ranking is BM25 with FTS5's own formula.

FTS5's bm25() is evaluated for every row that matches any query word: at 100,000 chunks a SciFact query
matches ~60,000 rows and bm25() costs 80-250 ms, while the match alone takes ~4 ms (bench_retrieval). So
the ranking runs in process instead (knowledge/index/bm25.py: numpy over postings cached per index
revision), built from each chunk's terms as FTS5's tokenizer produced them (stored with the chunk). While
that index is being (re)built for a large knowledge base, queries are answered by FTS5's bm25() itself."""

from __future__ import annotations

from collections import Counter

from django.db import connection

from knowledge.index import bm25, query_terms

TOKENIZE = "tokenize = 'porter unicode61 remove_diacritics 2'"


def _table(kb_id) -> str:
    return f"knowledge_fts_{str(kb_id).replace('-', '')}"


def ensure(kb_id) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {_table(kb_id)} USING fts5(text, file_id UNINDEXED, {TOKENIZE})"
        )


def tokenize(texts: list[str]) -> list[Counter]:
    """Each text's terms exactly as the knowledge bases' FTS5 tables see them (same tokenizer), via a
    scratch FTS5 table in this connection's temp schema and its fts5vocab 'instance' view."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.knowledge_tok USING fts5(text, {TOKENIZE})")
        cursor.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.knowledge_tok_v USING fts5vocab(temp, knowledge_tok, instance)"
        )
        cursor.execute("DELETE FROM temp.knowledge_tok")
        cursor.executemany("INSERT INTO temp.knowledge_tok (rowid, text) VALUES (%s, %s)", list(enumerate(texts)))
        cursor.execute("SELECT doc, term, count(*) FROM temp.knowledge_tok_v GROUP BY doc, term")
        counts = [Counter() for _ in texts]
        for doc, term, n in cursor.fetchall():
            counts[doc][term] = n
        cursor.execute("DELETE FROM temp.knowledge_tok")
    return counts


def prepare(texts: list[str]) -> list[tuple[bytes, bytes, int]]:
    """Per text: (term hashes, term counts, length in tokens) to store with its chunk."""
    return [bm25.pack(c) for c in tokenize(texts)]


def add(kb_id, rows: list[tuple[int, str, str]]) -> int:
    """rows: (chunk id, file id, text), already stored (with their terms from `prepare`)."""
    ensure(kb_id)
    rows = [(chunk_id, str(file_id).replace("-", ""), text) for chunk_id, file_id, text in rows]
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {_table(kb_id)} (rowid, file_id, text) VALUES (%s, %s, %s)", rows)
    return 0


def remove(kb_id, chunk_ids: list[int]) -> None:
    if not chunk_ids:
        return
    ensure(kb_id)
    with connection.cursor() as cursor:
        for start in range(0, len(chunk_ids), 500):
            part = chunk_ids[start : start + 500]
            cursor.execute(f"DELETE FROM {_table(kb_id)} WHERE rowid IN ({','.join(['%s'] * len(part))})", part)


def drop(kb_id) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_table(kb_id)}")
    bm25.forget(kb_id)


def search(kb, query: str, limit: int, file_ids: list[str] | None) -> list[tuple[int, float]]:
    """[(chunk id, BM25 score)], best first."""
    words = query_terms(query)
    if not words or (file_ids is not None and not file_ids):
        return []
    return bm25.search(
        kb,
        hashes=lambda: [bm25.term_hash(t) for t in tokenize([" ".join(words)])[0]],
        limit=limit,
        file_ids=file_ids,
        fallback=lambda: search_fts5(kb, words, limit, file_ids),
    )


def search_fts5(kb, words: list[str], limit: int, file_ids: list[str] | None) -> list[tuple[int, float]]:
    """FTS5's own bm25() ranking (the same formula as bm25.py; negated: FTS5's is smaller-is-better)."""
    table = _table(kb.id)
    match = " OR ".join('"' + word.replace('"', '""') + '"' for word in words)
    sql = f"SELECT rowid, -bm25({table}) FROM {table} WHERE {table} MATCH %s"
    params: list = [match]
    if file_ids is not None:
        sql += f" AND file_id IN ({','.join(['%s'] * len(file_ids))})"
        params += [str(f).replace("-", "") for f in file_ids]
    sql += f" ORDER BY bm25({table}) LIMIT %s"
    params.append(limit)
    ensure(kb.id)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(int(row[0]), float(row[1])) for row in cursor.fetchall()]
