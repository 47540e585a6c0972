"""The search indexes of a knowledge base, the one place with raw SQL in this app.

Keyword: SQLite FTS5 (one table per knowledge base, so BM25's statistics are the knowledge base's own)
or PostgreSQL tsvector with BM25 computed from stored term statistics (`postgres.py`). Vectors: exact
search with numpy over a per-knowledge-base matrix cached by index revision (`vectors.py`)."""

from __future__ import annotations

import re

from django.db import connection

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most my
    myself no nor not now of off on once only or other our ours ourselves out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your
    yours yourself yourselves""".split()
)
WORD_RE = re.compile(r"\w+", re.UNICODE)


def query_terms(query: str, limit: int = 64) -> list[str]:
    """Distinct, lower-cased query words without stopwords (they cost time and carry almost no signal)."""
    seen: dict[str, None] = {}
    for word in WORD_RE.findall(query.lower()):
        if word not in STOPWORDS and word not in seen:
            seen[word] = None
    return list(seen)[:limit]


def backend():
    if connection.vendor == "postgresql":
        from knowledge.index import postgres

        return postgres
    from knowledge.index import sqlite

    return sqlite
