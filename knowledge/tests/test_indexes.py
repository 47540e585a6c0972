"""The in-process indexes of a large knowledge base are rebuilt in the background; until then the
previous revision answers (never a stall on a rebuild, never the slow database ranking when avoidable)."""

import numpy as np
import pytest

from knowledge.index import bm25, vectors
from knowledge.models import KnowledgeBase
from knowledge.tests.conftest import settled, upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def two_revisions(kb_client, make_kb, monkeypatch):
    kb = make_kb("Docs")
    first = upload(kb_client, kb["id"], "a.txt", b"Refunds take five days.").json()
    settled(kb_client, kb["id"], first["id"])
    old = KnowledgeBase.objects.get(pk=kb["id"])
    bm25.build(old)
    vectors.matrix(old)
    second = upload(kb_client, kb["id"], "b.txt", b"Refunds of gift cards take ten days.").json()
    settled(kb_client, kb["id"], second["id"])
    # "Large": every rebuild goes to the background, which here only records that it was asked for.
    monkeypatch.setattr(bm25, "SYNC_BUILD_MAX_CHUNKS", 0)
    monkeypatch.setattr(vectors, "SYNC_LOAD_MAX_CHUNKS", 0)
    started = []
    monkeypatch.setattr(bm25._cache, "build_in_background", lambda kb, _: started.append(("bm25", kb.revision)))
    monkeypatch.setattr(vectors._cache, "build_in_background", lambda kb, _: started.append(("vectors", kb.revision)))
    return old, KnowledgeBase.objects.get(pk=kb["id"]), started


def search_keyword(kb):
    return bm25.search(kb, hashes=lambda: [bm25.term_hash("refund")], limit=5, file_ids=None, fallback=lambda: "db")


def test_a_large_knowledge_bases_keyword_index_answers_from_the_previous_revision_while_it_rebuilds(two_revisions):
    old, new, started = two_revisions
    assert new.revision > old.revision

    assert len(search_keyword(new)) == 1  # the previous revision knew one chunk
    assert started == [("bm25", new.revision)]

    bm25.build(new)  # what the background thread does
    assert len(search_keyword(new)) == 2


def test_without_any_index_yet_a_large_knowledge_base_is_ranked_by_the_database(two_revisions):
    _old, new, started = two_revisions
    bm25.forget(new.id)
    assert search_keyword(new) == "db"
    assert started == [("bm25", new.revision)]


def test_a_large_knowledge_bases_vectors_answer_from_the_previous_revision_while_they_reload(two_revisions):
    _old, new, started = two_revisions
    query = np.ones(new.embedding_dimensions, dtype=np.float32)

    assert len(vectors.search(new, query, 5, None)) == 1
    assert started == [("vectors", new.revision)]

    vectors._cache.store(new, vectors._load(new))
    assert len(vectors.search(new, query, 5, None)) == 2
