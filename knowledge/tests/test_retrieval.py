"""Retrieval on a small corpus: each mode ranks the right chunk first, filters and the threshold hold,
and the local test model's embeddings carry a lexical signal."""

import numpy as np
import pytest

from knowledge.tests.conftest import settled, upload
from runs.testing.model_server.embeddings import embed

pytestmark = pytest.mark.django_db(transaction=True)

CORPUS = {
    "refunds.txt": ("Refunds are paid back to the original card within five business days.", "billing"),
    "shipping.txt": ("Parcels ship from our Berlin warehouse; delivery takes two to four days.", "logistics"),
    "security.txt": ("Passwords are hashed with Argon2 and sessions expire after twelve hours.", "it"),
    "holidays.txt": ("Employees get thirty days of paid holiday, booked through the HR portal.", "hr"),
    "printers.txt": ("The office printer on floor two jams when the paper tray is overfilled.", "it"),
}


@pytest.fixture
def corpus(kb_client, make_kb):
    kb = make_kb("Handbook")
    for name, (text, tag) in CORPUS.items():
        file = upload(kb_client, kb["id"], name, text.encode(), tags=tag).json()
    settled(kb_client, kb["id"], file["id"])
    return kb


def search(client, kb, **body):
    response = client.post(f"/api/v1/knowledge-bases/{kb['id']}/search", body, format="json")
    assert response.status_code == 200, response.json()
    return response.json()["results"]


@pytest.mark.parametrize("mode", ["keyword", "vector", "hybrid"])
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("when are refunds paid back", "refunds.txt"),
        ("how many days of holiday do employees get", "holidays.txt"),
        ("printer paper tray jams", "printers.txt"),
        ("are passwords hashed", "security.txt"),
    ],
)
def test_each_mode_ranks_the_matching_chunk_first(kb_client, corpus, mode, query, expected):
    results = search(kb_client, corpus, query=query, mode=mode, top_k=3)
    assert results[0]["file_name"] == expected
    assert results[0]["text"] == CORPUS[expected][0]
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)


def test_keyword_search_only_returns_chunks_that_share_a_word_with_the_query(kb_client, corpus):
    results = search(kb_client, corpus, query="warehouse", mode="keyword")
    assert [r["file_name"] for r in results] == ["shipping.txt"]


def test_keyword_search_stems_words(kb_client, corpus):
    results = search(kb_client, corpus, query="refund hashing", mode="keyword")
    assert sorted(r["file_name"] for r in results) == ["refunds.txt", "security.txt"]


def test_a_tag_filter_keeps_only_files_with_that_tag(kb_client, corpus):
    results = search(kb_client, corpus, query="days", mode="hybrid", filters={"tags": ["it"]}, top_k=10)
    assert sorted(r["file_name"] for r in results) == ["printers.txt", "security.txt"]


def test_a_file_filter_takes_names_or_ids(kb_client, corpus):
    files = {f["name"]: f["id"] for f in kb_client.get(f"/api/v1/knowledge-bases/{corpus['id']}/files").json()}
    by_name = search(kb_client, corpus, query="days", mode="keyword", filters={"file_id": ["holidays.txt"]})
    by_id = search(kb_client, corpus, query="days", mode="vector", filters={"file_id": files["refunds.txt"]})
    assert [r["file_name"] for r in by_name] == ["holidays.txt"]
    assert [r["file_name"] for r in by_id] == ["refunds.txt"]


def test_a_score_threshold_drops_weaker_results(kb_client, corpus):
    everything = search(kb_client, corpus, query="parcels warehouse days", mode="keyword", top_k=10)
    cut = everything[0]["score"] - 0.001  # scores are rounded to 6 places
    strong = search(kb_client, corpus, query="parcels warehouse days", mode="keyword", top_k=10, score_threshold=cut)
    assert len(everything) > 1
    assert strong == everything[:1]


def test_a_query_with_only_stopwords_finds_nothing_by_keyword(kb_client, corpus):
    assert search(kb_client, corpus, query="the of and", mode="keyword") == []


def test_an_unknown_mode_is_refused(kb_client, corpus):
    response = kb_client.post(
        f"/api/v1/knowledge-bases/{corpus['id']}/search", {"query": "x", "mode": "magic"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_the_test_models_embeddings_are_closer_for_texts_that_share_words():
    a, b, c = (np.array(embed(t)) for t in ("refunds paid in five days", "refund paid back", "printer jams"))
    assert np.isclose(np.linalg.norm(a), 1.0)
    assert a @ b > 0.4
    assert abs(a @ c) < 0.2
    assert embed("refunds paid in five days") == embed("refunds paid in five days")


def test_the_in_process_bm25_ranks_exactly_like_the_databases_own_bm25(kb_client, corpus):
    """The database answers while a large index is being built: both must give the same ranking."""
    from django.db import connection

    from knowledge.index import postgres, query_terms, sqlite
    from knowledge.models import KnowledgeBase

    kb = KnowledgeBase.objects.get(pk=corpus["id"])
    for query in ("days paid", "printer paper two", "passwords sessions hours employees"):
        if connection.vendor == "sqlite":
            ours = sqlite.search(kb, query, 10, None)
            theirs = sqlite.search_fts5(kb, query_terms(query), 10, None)
        else:
            ours = postgres.search(kb, query, 10, None)
            theirs = postgres.search_sql(kb, query, 10, None)
        assert len(ours) >= 2
        assert [c for c, _ in ours] == [c for c, _ in theirs]
        assert [round(s, 4) for _, s in ours] == [round(s, 4) for _, s in theirs]


def test_deleting_a_file_updates_the_knowledge_bases_chunk_count(kb_client, corpus):
    files = kb_client.get(f"/api/v1/knowledge-bases/{corpus['id']}/files").json()
    assert kb_client.get(f"/api/v1/knowledge-bases/{corpus['id']}").json()["chunks"] == 5
    kb_client.delete(f"/api/v1/knowledge-bases/{corpus['id']}/files/{files[0]['id']}")
    assert kb_client.get(f"/api/v1/knowledge-bases/{corpus['id']}").json()["chunks"] == 4
