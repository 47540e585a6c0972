"""pgvector: on a PostgreSQL server with the `vector` extension, vectors live in the chunks' `embedding_vec`
column and vector search walks the knowledge base's HNSW index, with the same answers as exact search on a
small knowledge base; deleting a file removes its vectors; an embedding change re-indexes into an index of
the new dimensions. On a server without the extension, the same tests run in a subprocess against a
throwaway pgvector server (knowledge/tests/pgvector_server.py); exact search is covered by test_retrieval."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from django.db import connection

from knowledge.embedding import embed_texts
from knowledge.index import pgvector, vectors
from knowledge.models import Chunk, KnowledgeBase
from knowledge.tests.conftest import settled, upload

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
TOPICS = [
    "refunds are paid back to the original card within five business days",
    "visitors park in the basement garage next to the lifts",
    "the office is closed on public holidays and the first monday of may",
    "laptops are replaced every three years by the it department",
    "expenses above five hundred euros need a manager's approval",
    "the cafeteria serves vegetarian lunch every weekday at noon",
    "security badges must be worn visibly inside the building",
    "remote work is allowed up to three days a week",
]


@pytest.fixture
def with_pgvector(db):
    if not pgvector.enabled():
        pytest.skip("this PostgreSQL server has no `vector` extension: test_on_a_pgvector_server runs these there")


def vector_indexes(kb_id) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE indexname LIKE %s",
            [f"knowledge_chunk_hnsw_{kb_id.replace('-', '')}_%"],
        )
        return sorted(row[0] for row in cursor.fetchall())


def stored_vectors(**where) -> int:
    ids = list(Chunk.objects.filter(**where).values_list("id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM knowledge_chunk WHERE id = ANY(%s) AND embedding_vec IS NOT NULL", [ids])
        return cursor.fetchone()[0]


def test_vector_search_walks_the_hnsw_index_with_the_answers_of_exact_search(with_pgvector, kb_client, make_kb):
    kb = make_kb("Handbook", embedding={"dimensions": 64})
    for i, text in enumerate(TOPICS):
        file = upload(kb_client, kb["id"], f"topic{i}.txt", text.encode()).json()
    assert settled(kb_client, kb["id"], file["id"])["status"] == "ready"
    assert stored_vectors(knowledge_base_id=kb["id"]) == len(TOPICS)
    assert vector_indexes(kb["id"]) == [pgvector.index_name(kb["id"], 64)]

    row = KnowledgeBase.objects.get(pk=kb["id"])
    for query in ("when are refunds paid back", "where can visitors park", "who approves expenses"):
        vector = embed_texts(row, [query])[0]
        walked = pgvector.search(row, vector, 5)
        exact = vectors.search(row, vector, 5, None)
        # Same scores rank by rank (chunks with equal scores may come in either order), same best chunk.
        assert np.allclose([s for _, s in walked], [s for _, s in exact], atol=1e-5)
        assert walked[0][0] == exact[0][0]
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # 8 rows: make the planner show it can use the index
        try:
            assert pgvector.index_name(kb["id"], 64) in pgvector.explain(row, vector, 5)
        finally:
            cursor.execute("RESET enable_seqscan")

    found = kb_client.post(
        f"/api/v1/knowledge-bases/{kb['id']}/search",
        {"query": "when are refunds paid back", "mode": "vector"},
        format="json",
    ).json()["results"]
    assert found[0]["text"] == TOPICS[0]


def test_deleting_a_file_removes_its_vectors_and_a_knowledge_base_its_index(with_pgvector, kb_client, make_kb):
    kb = make_kb()
    first = upload(kb_client, kb["id"], "a.txt", TOPICS[0].encode()).json()
    second = upload(kb_client, kb["id"], "b.txt", TOPICS[1].encode()).json()
    settled(kb_client, kb["id"], second["id"])
    assert stored_vectors(file_id=first["id"]) == 1

    assert kb_client.delete(f"/api/v1/knowledge-bases/{kb['id']}/files/{first['id']}").status_code == 204
    assert stored_vectors(knowledge_base_id=kb["id"]) == 1
    found = kb_client.post(
        f"/api/v1/knowledge-bases/{kb['id']}/search", {"query": TOPICS[0], "mode": "vector"}, format="json"
    ).json()["results"]
    assert [r["file_name"] for r in found] == ["b.txt"]

    assert kb_client.delete(f"/api/v1/knowledge-bases/{kb['id']}").status_code == 204
    assert vector_indexes(kb["id"]) == []


def test_an_embedding_change_reindexes_into_an_index_of_the_new_dimensions(with_pgvector, kb_client, make_kb):
    kb = make_kb(embedding={"dimensions": 64})
    file = upload(kb_client, kb["id"], "a.txt", TOPICS[0].encode()).json()
    settled(kb_client, kb["id"], file["id"])
    kb_client.patch(f"/api/v1/knowledge-bases/{kb['id']}", {"embedding": {"dimensions": 32}}, format="json")
    assert settled(kb_client, kb["id"], file["id"])["status"] == "ready"
    assert vector_indexes(kb["id"]) == [pgvector.index_name(kb["id"], 32)]
    found = kb_client.post(
        f"/api/v1/knowledge-bases/{kb['id']}/search", {"query": "refunds", "mode": "vector"}, format="json"
    ).json()["results"]
    assert [r["file_name"] for r in found] == ["a.txt"]


def test_on_a_pgvector_server(db):
    """Without the extension here: the tests above, in a subprocess, on a throwaway pgvector server."""
    if pgvector.enabled():
        pytest.skip("this PostgreSQL server has pgvector: the tests above ran on it")
    from knowledge.tests.pgvector_server import Unavailable, pgvector_server

    try:
        server = pgvector_server()
        url = server.__enter__()
    except Unavailable as exc:
        pytest.skip(f"no pgvector server to test on: {exc}")
    try:
        env = {**os.environ, "DATABASE_URL": url}
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                __file__,
                "-q",
                "-p",
                "no:randomly",
                "-m",
                "not e2e",
                "-k",
                "not on_a_pgvector",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        server.__exit__(None, None, None)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "3 passed" in result.stdout and "skipped" not in result.stdout, result.stdout[-2000:]
