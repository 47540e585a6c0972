"""Knowledge tests: embeddings come from the local test model (no key), and every test waits for the
in-process ingestion job before its database is emptied."""

import io

import pytest

from knowledge import jobs


@pytest.fixture(autouse=True)
def _local_embeddings(settings, tmp_path):
    settings.OPENAI_API_KEY = ""
    settings.LOCAL_TEST_MODEL = True
    settings.STORAGES = {
        **settings.STORAGES,
        "knowledge": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "knowledge")},
        },
    }
    from django.core.files.storage import storages

    storages._storages.pop("knowledge", None)
    yield
    assert jobs.inline_wait_idle(60), "ingestion was still going 60 s after the test"
    storages._storages.pop("knowledge", None)


@pytest.fixture
def kb_client(workspace, owner, client_for):
    return client_for(owner, workspace)


@pytest.fixture
def make_kb(kb_client):
    def make(name: str = "Docs", client=None, **extra):
        response = (client or kb_client).post("/api/v1/knowledge-bases", {"name": name, **extra}, format="json")
        assert response.status_code == 201, response.json()
        return response.json()

    return make


def upload(client, kb_id: str, name: str, data: bytes, **fields):
    return client.post(
        f"/api/v1/knowledge-bases/{kb_id}/files", {"file": _named(name, data), **fields}, format="multipart"
    )


def _named(name: str, data: bytes):
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def settled(client, kb_id: str, file_id: str) -> dict:
    """The file once ingestion has finished with it."""
    assert jobs.inline_wait_idle(30)
    return client.get(f"/api/v1/knowledge-bases/{kb_id}/files/{file_id}").json()
