"""Keyword index on SQLite: an FTS5 table per knowledge base (porter stemming, BM25 from FTS5 itself)."""

from __future__ import annotations

from django.db import connection

from knowledge.index import query_terms


def _table(kb_id) -> str:
    return f"knowledge_fts_{str(kb_id).replace('-', '')}"


def ensure(kb_id) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {_table(kb_id)} USING fts5("
            "text, file_id UNINDEXED, tokenize = 'porter unicode61 remove_diacritics 2')"
        )


def add(kb_id, rows: list[tuple[int, str, str]]) -> int:
    """rows: (chunk id, file id, text). Returns the total length added (unused on SQLite)."""
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


def search(kb, query: str, limit: int, file_ids: list[str] | None) -> list[tuple[int, float]]:
    """[(chunk id, BM25 score)], best first. FTS5's bm25() is negative (smaller is better): negated here."""
    terms = query_terms(query)
    if not terms:
        return []
    match = " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)
    table = _table(kb.id)
    sql = f"SELECT rowid, -rank FROM {table} WHERE {table} MATCH %s"
    params: list = [match]
    if file_ids is not None:
        if not file_ids:
            return []
        sql += f" AND file_id IN ({','.join(['%s'] * len(file_ids))})"
        params += [str(f).replace("-", "") for f in file_ids]
    sql += " ORDER BY rank LIMIT %s"
    params.append(limit)
    ensure(kb.id)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(int(row[0]), float(row[1])) for row in cursor.fetchall()]
