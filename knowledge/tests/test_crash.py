"""A process that dies in the middle of indexing leaves no half-indexed file: it is killed (os._exit) after
its chunks and keyword entries were written but before they were committed; the file is not ready, no
chunk of it exists, the knowledge base's statistics are untouched, and the next start indexes it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from knowledge import jobs
from knowledge.models import Chunk, KnowledgeBase, KnowledgeFile
from knowledge.tests.conftest import settled, upload

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
DYING_INGEST = """
import os, sys
import django

django.setup()
from django.conf import settings

settings.OPENAI_API_KEY, settings.LOCAL_TEST_MODEL = "", True
settings.STORAGES = {**settings.STORAGES, "knowledge": {
    "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": sys.argv[2]}}}
from knowledge import index, services

backend = index.backend()
real_add = backend.add


def add_then_die(*args, **kwargs):
    real_add(*args, **kwargs)  # chunks and keyword entries written, the transaction still open
    print("dying", flush=True)
    os._exit(9)


backend.add = add_then_die
services.ingest_pending(knowledge_base_id=sys.argv[1])
"""


def test_a_job_killed_mid_index_leaves_nothing_half_indexed_and_the_next_start_indexes_the_file(
    kb_client, make_kb, monkeypatch, settings
):
    if connection.vendor != "postgresql":
        pytest.skip("the dying job runs in another process: it needs a database server, not a test SQLite file")
    kb = make_kb()
    monkeypatch.setattr(jobs, "dispatch_ingest", lambda kb_id: None)  # the dying process takes the job
    file = upload(kb_client, kb["id"], "refunds.txt", b"Refunds are paid back within five days.").json()
    assert KnowledgeFile.objects.get().status == "queued"

    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "trellis.settings_test"}
    location = settings.STORAGES["knowledge"]["OPTIONS"]["location"]
    died = subprocess.run(
        [sys.executable, "-c", DYING_INGEST, kb["id"], location],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert died.returncode == 9 and "dying" in died.stdout, died.stderr[-2000:]

    # given: the crash. No chunk was committed, and the file is not ready.
    left = KnowledgeFile.objects.get()
    assert left.status == "processing" and left.chunks == 0
    assert Chunk.objects.count() == 0
    row = KnowledgeBase.objects.get()
    assert (row.chunk_count, row.total_length, row.revision) == (0, 0, 0)
    found = kb_client.post(f"/api/v1/knowledge-bases/{kb['id']}/search", {"query": "refunds"}, format="json")
    assert found.json()["results"] == []

    # when: the process starts again (default mode's start-up resume).
    monkeypatch.undo()
    from knowledge.services import ingest_resume

    assert ingest_resume(requeue_all_processing=True) == [kb["id"]]
    again = settled(kb_client, kb["id"], file["id"])
    assert (again["status"], again["chunks"]) == ("ready", 1)
    results = kb_client.post(f"/api/v1/knowledge-bases/{kb['id']}/search", {"query": "refunds"}, format="json")
    assert [r["file_name"] for r in results.json()["results"]] == ["refunds.txt"]
