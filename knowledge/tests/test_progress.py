"""Ingestion progress over the WebSocket /ws/knowledge-bases/<id>/, through the real channel layer
(channels-redis, as in production): a snapshot, then queued → processing with a growing fraction →
ready for an upload, failed with its reason for a bad file, the same again for a re-index after an
embedding model change; another workspace's knowledge base closes the socket as an unknown one does."""

import json
import time

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing.websocket import WebsocketCommunicator
from channels_redis.core import RedisChannelLayer

from accounts.services import api_token_create
from knowledge.tests import documents
from knowledge.tests.conftest import upload
from trellis.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

HEADERS = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
TEXT = " ".join(f"Sentence {i} says that refunds take {i} days at the latest." for i in range(120)).encode()


def communicator(kb_id, token):
    return WebsocketCommunicator(
        application, f"/ws/knowledge-bases/{kb_id}/", headers=HEADERS, subprotocols=["trellis", token]
    )


async def events_until(comm, file_id, final: str, timeout=30) -> list[dict]:
    got = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no {final!r} for the file; got {got}"
        item = json.loads(await comm.receive_from(timeout=left))
        if item.get("file_id") == file_id:
            got.append(item)
            if item["status"] == final:
                return got


@pytest.fixture
def small_batches(settings):
    settings.KNOWLEDGE_CHUNK_TOKENS = 32
    settings.KNOWLEDGE_CHUNK_OVERLAP = 0
    settings.KNOWLEDGE_EMBED_BATCH = 8  # several embedding calls per file: the bar moves in steps


@pytest.fixture
def token(workspace, owner):
    return api_token_create(workspace=workspace, user=owner, name="ws")[1]


async def test_an_upload_streams_queued_processing_with_progress_then_ready(kb_client, make_kb, token, small_batches):
    assert isinstance(get_channel_layer(), RedisChannelLayer)  # the layer production uses, not in-memory
    kb = await database_sync_to_async(make_kb)()
    comm = communicator(kb["id"], token)
    connected, subprotocol = await comm.connect()
    assert connected and subprotocol == "trellis"
    assert json.loads(await comm.receive_from(timeout=5)) == {"type": "snapshot", "files": []}

    response = await database_sync_to_async(upload)(kb_client, kb["id"], "refunds.txt", TEXT)
    assert response.status_code == 202
    file_id = response.json()["id"]
    got = await events_until(comm, file_id, "ready")

    statuses = [e["status"] for e in got]
    assert statuses[0] == "queued" and statuses[-1] == "ready"
    assert set(statuses[1:-1]) == {"processing"}
    fractions = [e["progress"] for e in got if e["status"] == "processing"]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == pytest.approx(0.9)
    assert len(set(fractions)) >= 4, fractions  # parsed, then a step per embedding batch
    assert got[-1]["progress"] == 1.0 and got[-1]["chunks"] > 8 and got[-1]["name"] == "refunds.txt"
    # Ready is sent after the commit: the file is searchable when the browser hears it.
    url = f"/api/v1/knowledge-bases/{kb['id']}/files/{file_id}"
    status = await database_sync_to_async(lambda: kb_client.get(url))()
    assert status.json()["status"] == "ready"
    await comm.disconnect()

    # A socket opened later starts from the stored statuses.
    late = communicator(kb["id"], token)
    assert (await late.connect())[0]
    snapshot = json.loads(await late.receive_from(timeout=5))
    assert snapshot["files"] == [
        {"file_id": file_id, "name": "refunds.txt", "status": "ready", "error": "", "chunks": got[-1]["chunks"]}
    ]
    await late.disconnect()


async def test_a_bad_file_streams_failed_with_its_reason(kb_client, make_kb, token):
    kb = await database_sync_to_async(make_kb)()
    comm = communicator(kb["id"], token)
    assert (await comm.connect())[0]
    await comm.receive_from(timeout=5)
    response = await database_sync_to_async(upload)(kb_client, kb["id"], "scan.pdf", documents.pdf_without_text())
    got = await events_until(comm, response.json()["id"], "failed")
    assert got[-1]["error"].startswith("Scanned PDF without a text layer")
    await comm.disconnect()


async def test_a_reindex_after_an_embedding_change_streams_progress(kb_client, make_kb, token, small_batches):
    kb = await database_sync_to_async(make_kb)()
    response = await database_sync_to_async(upload)(kb_client, kb["id"], "refunds.txt", TEXT)
    file_id = response.json()["id"]
    comm = communicator(kb["id"], token)
    assert (await comm.connect())[0]
    await comm.receive_from(timeout=5)
    await events_until(comm, file_id, "ready")  # (it may have been ready before the socket: then the snapshot said so)

    changed = await database_sync_to_async(
        lambda: kb_client.patch(f"/api/v1/knowledge-bases/{kb['id']}", {"embedding": {"dimensions": 32}}, format="json")
    )()
    assert changed.status_code == 200
    got = await events_until(comm, file_id, "ready")
    assert got[0]["status"] == "queued"
    assert any(e["status"] == "processing" and 0 < e["progress"] < 1 for e in got)
    await comm.disconnect()


async def test_another_workspaces_knowledge_base_closes_the_socket_as_unknown(make_kb, make_workspace, token):
    kb = await database_sync_to_async(make_kb)()
    foreign_owner_token = await database_sync_to_async(
        lambda: (lambda ws: api_token_create(workspace=ws, user=ws.memberships.get().user, name="x")[1])(
            make_workspace(name="Other")
        )
    )()
    comm = communicator(kb["id"], foreign_owner_token)
    connected, code = await comm.connect()
    assert not connected and code == 4404
    unknown = communicator("00000000-0000-0000-0000-000000000000", token)
    connected, code = await unknown.connect()
    assert not connected and code == 4404


async def test_a_browser_socket_closes_once_its_session_is_signed_out(make_kb, owner, settings):
    from django.conf import settings as django_settings
    from django.test import Client

    settings.WS_RECHECK_S = 0.2

    def setup():
        client = Client()
        client.force_login(owner)
        return make_kb(), client

    kb, client = await database_sync_to_async(setup)()
    cookie = f"{django_settings.SESSION_COOKIE_NAME}={client.cookies[django_settings.SESSION_COOKIE_NAME].value}"
    comm = WebsocketCommunicator(
        application, f"/ws/knowledge-bases/{kb['id']}/", headers=[*HEADERS, (b"cookie", cookie.encode())]
    )
    connected, _ = await comm.connect()
    assert connected
    assert json.loads(await comm.receive_from(timeout=10))["type"] == "snapshot"
    # when
    await database_sync_to_async(client.post)("/accounts/logout/")
    # then: the next re-check closes the socket as unauthenticated
    deadline = time.monotonic() + 10
    while True:
        message = await comm.receive_output(timeout=max(0.1, deadline - time.monotonic()))
        if message["type"] == "websocket.close":
            break
    assert message["code"] == 4401
    await comm.disconnect()
