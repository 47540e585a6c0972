"""Uploads, ingestion, serving and deletion through django-storages' S3 backend (TRELLIS_KNOWLEDGE_STORAGE=s3),
against a real S3-compatible HTTP server: moto's, run as a subprocess on loopback."""

import subprocess
import sys

import boto3
import pytest

from knowledge.models import Chunk, KnowledgeFile
from knowledge.tests.conftest import settled, upload
from runs.testing.live_server import free_port, stop_processes, wait_until_answers

pytestmark = pytest.mark.django_db(transaction=True)

BUCKET = "trellis-knowledge-test"


@pytest.fixture(scope="module")
def s3_endpoint():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_answers(f"http://127.0.0.1:{port}/", proc=proc, timeout_s=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_processes(proc)


@pytest.fixture
def s3_storage(s3_endpoint, settings, monkeypatch):
    """The knowledge storage exactly as settings.py builds it for TRELLIS_KNOWLEDGE_STORAGE=s3."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("TRELLIS_KNOWLEDGE_STORAGE", "s3")
    monkeypatch.setenv("TRELLIS_KNOWLEDGE_S3_BUCKET", BUCKET)
    monkeypatch.setenv("TRELLIS_KNOWLEDGE_S3_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("TRELLIS_KNOWLEDGE_S3_REGION", "us-east-1")
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {**settings.STORAGES, "knowledge": _configured_knowledge_storage()}
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def _configured_knowledge_storage() -> dict:
    """What trellis/settings.py builds from the environment above."""
    from trellis.settings import knowledge_storage_setting

    return knowledge_storage_setting()


def keys(client) -> list[str]:
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_a_file_is_stored_in_the_bucket_indexed_served_and_deleted_with_its_chunks(s3_storage, kb_client, make_kb):
    assert _configured_knowledge_storage()["BACKEND"] == "storages.backends.s3.S3Storage"
    kb = make_kb()
    data = b"# Refunds\nRefunds are paid back within five days."
    file = upload(kb_client, kb["id"], "refunds.md", data).json()
    assert settled(kb_client, kb["id"], file["id"])["status"] == "ready"

    (key,) = keys(s3_storage)
    assert key.startswith("knowledge/") and key.endswith(KnowledgeFile.objects.get().content_hash)
    assert s3_storage.get_object(Bucket=BUCKET, Key=key)["Body"].read() == data
    found = kb_client.post(f"/api/v1/knowledge-bases/{kb['id']}/search", {"query": "refunds"}, format="json").json()
    assert found["results"][0]["file_name"] == "refunds.md"
    served = kb_client.get(f"/api/v1/knowledge-bases/{kb['id']}/files/{file['id']}/content")
    assert b"".join(served.streaming_content) == data

    # The same bytes again are the same object (content hash), not a second one.
    assert upload(kb_client, kb["id"], "copy.md", data).status_code == 200
    assert len(keys(s3_storage)) == 1

    assert kb_client.delete(f"/api/v1/knowledge-bases/{kb['id']}/files/{file['id']}").status_code == 204
    assert keys(s3_storage) == []
    assert Chunk.objects.count() == 0


def test_deleting_a_knowledge_base_empties_its_part_of_the_bucket(s3_storage, kb_client, make_kb):
    kb = make_kb()
    for i in range(3):
        file = upload(kb_client, kb["id"], f"n{i}.txt", f"note number {i}".encode()).json()
    settled(kb_client, kb["id"], file["id"])
    assert len(keys(s3_storage)) == 3
    assert kb_client.delete(f"/api/v1/knowledge-bases/{kb['id']}").status_code == 204
    assert keys(s3_storage) == []
