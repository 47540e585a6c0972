"""WebSocket /ws/runs/<id>/: permission check, then stored events after `seq` and live ones, with no gap
and no duplicate while another thread keeps publishing."""

import asyncio
import json
import threading
import time

import pytest
from channels.db import database_sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.db import connections

from accounts.services import api_token_create
from runs.events import publish_event
from trellis.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

HEADERS = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]


def communicator(run_id, token, after=None):
    query = f"?after={after}" if after is not None else ""
    return WebsocketCommunicator(
        application, f"/ws/runs/{run_id}/{query}", headers=HEADERS, subprotocols=["trellis", token]
    )


async def receive_until(comm, last_seq, timeout=15):
    got = []
    deadline = time.monotonic() + timeout
    while not got or got[-1]["seq"] is None or got[-1]["seq"] < last_seq:
        left = deadline - time.monotonic()
        assert left > 0, f"stopped at {got[-1]['seq'] if got else None}"
        got.append(json.loads(await comm.receive_from(timeout=left)))
    return got


@pytest.fixture
def run_and_token(make_run, workspace, owner):
    from runs.tests.helpers import line, node, start

    run = make_run(line(start(), node("end", "end")))
    _, raw = api_token_create(workspace=workspace, user=owner, name="ws")
    return run, raw


@pytest.fixture(params=["redis", "in-memory"])
def layer(request, settings):
    """The channel layer of queue mode (Redis) or of default mode (in memory: a message for a group nobody has
    joined yet is not sent at all, runs/events.py)."""
    if request.param == "in-memory":
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    return request.param


async def test_replay_then_live_has_no_gap_and_no_duplicate_under_a_concurrent_publisher(run_and_token, layer):
    run, token = run_and_token
    total = 300
    started = threading.Event()

    def publisher():
        try:
            for i in range(total):
                publish_event(run_id=run.pk, type="step.finished", node_id="n", data={"i": i})
                if i == 100:
                    started.set()
                time.sleep(0.002)
        finally:
            connections.close_all()

    thread = threading.Thread(target=publisher)
    thread.start()
    await asyncio.get_running_loop().run_in_executor(None, started.wait)
    comm = communicator(run.pk, token, after=0)
    connected, _ = await comm.connect()
    assert connected
    got = await receive_until(comm, total)
    await asyncio.get_running_loop().run_in_executor(None, thread.join)
    seqs = [e["seq"] for e in got]
    assert seqs == list(range(1, total + 1))
    assert got[5]["data"] == {"i": 5}
    assert set(got[0]) == {"seq", "type", "run_id", "node_id", "ts", "data"}
    assert got[0]["run_id"] == str(run.pk)
    await comm.disconnect()


async def test_after_skips_events_already_seen(run_and_token):
    run, token = run_and_token
    for i in range(5):
        await database_sync_to_async(publish_event)(run_id=run.pk, type="run.status", data={"i": i})
    comm = communicator(run.pk, token, after=3)
    connected, _ = await comm.connect()
    assert connected
    got = await receive_until(comm, 5)
    assert [e["seq"] for e in got] == [4, 5]
    await database_sync_to_async(publish_event)(run_id=run.pk, type="step.delta", node_id="n", data={"text": "hi"})
    delta = json.loads(await comm.receive_from(timeout=5))
    assert delta["type"] == "step.delta" and delta["seq"] is None and delta["data"] == {"text": "hi"}
    await comm.disconnect()


async def test_a_token_of_another_workspace_is_refused(run_and_token, make_workspace, make_user):
    run, _ = run_and_token

    def other_token():
        stranger = make_user()
        ws = make_workspace(owner=stranger)
        return api_token_create(workspace=ws, user=stranger, name="x")[1]

    token = await database_sync_to_async(other_token)()
    comm = communicator(run.pk, token)
    connected, code = await comm.connect()
    assert not connected
    assert code == 4404


async def test_an_anonymous_socket_is_refused(run_and_token):
    run, _ = run_and_token
    comm = WebsocketCommunicator(application, f"/ws/runs/{run.pk}/", headers=HEADERS)
    connected, _ = await comm.connect()
    assert not connected


async def test_streamed_text_is_coalesced_live_and_never_stored(make_run, workspace, owner):
    from runs.dispatch import dispatch_run
    from runs.models import RunEvent, Step
    from runs.tests.helpers import line, node, start

    def setup():
        run = make_run(line(start(), node("talk", "test_stream", chunks=60, interval=0.01), node("end", "end")))
        return run, api_token_create(workspace=workspace, user=owner, name="ws")[1]

    run, token = await database_sync_to_async(setup)()
    comm = communicator(run.pk, token, after=0)
    connected, _ = await comm.connect()
    assert connected
    await database_sync_to_async(dispatch_run)(run.pk)
    got = []
    while not got or got[-1]["type"] != "run.finished":
        got.append(json.loads(await comm.receive_from(timeout=15)))
    deltas = [e for e in got if e["type"] == "step.delta"]
    # 60 tokens over ~0.6 s arrive as at most ~20 messages a second (plus the final flush)
    assert 2 <= len(deltas) <= 16, len(deltas)
    step = await database_sync_to_async(Step.objects.get)(run=run, node_id="talk")
    assert "".join(d["data"]["text"] for d in deltas) == step.output["text"]
    assert all(d["data"]["step_id"] == str(step.pk) and d["node_id"] == "talk" for d in deltas)
    stored = await database_sync_to_async(lambda: RunEvent.objects.filter(run=run, type="step.delta").count())()
    assert stored == 0
    seqs = [e["seq"] for e in got if e["seq"] is not None]
    assert seqs == list(range(1, len(seqs) + 1))
    await comm.disconnect()


async def _closed_with(comm, timeout=5) -> int | None:
    """The close code the server sends next, skipping any events still in flight."""
    deadline = time.monotonic() + timeout
    while True:
        message = await comm.receive_output(timeout=max(0.01, deadline - time.monotonic()))
        if message["type"] == "websocket.close":
            return message.get("code")


async def test_an_open_socket_closes_when_its_token_is_revoked_and_streams_nothing_after(run_and_token, settings):
    from accounts.models import ApiToken
    from accounts.services import api_token_revoke

    settings.WS_RECHECK_S = 60  # the revocation notice, not the periodic re-check, closes it here
    run, token = run_and_token
    await database_sync_to_async(publish_event)(run_id=run.pk, type="run.status", data={"i": 1})
    comm = communicator(run.pk, token, after=0)
    connected, subprotocol = await comm.connect()
    assert (connected, subprotocol) == (True, "trellis")
    assert [e["seq"] for e in await receive_until(comm, 1)] == [1]

    # when the token is revoked while the socket is open
    api_token = await database_sync_to_async(ApiToken.objects.get)(name="ws")
    await database_sync_to_async(api_token_revoke)(token=api_token)

    # then the socket is closed as unauthenticated, and later events never reach it
    assert await _closed_with(comm) == 4401
    await database_sync_to_async(publish_event)(run_id=run.pk, type="run.status", data={"i": 2})
    assert await comm.receive_nothing(timeout=0.5) is True
    await comm.disconnect()


async def test_an_open_socket_closes_when_its_member_is_removed(make_run, workspace, owner, member, settings):
    from django.conf import settings as django_settings
    from django.test import Client

    from accounts.models import Membership
    from accounts.services import membership_remove
    from runs.tests.helpers import line, node, start

    def setup():
        run = make_run(line(start(), node("end", "end")))
        editor = member(workspace, "editor")
        client = Client()
        client.force_login(editor)
        cookie = f"{django_settings.SESSION_COOKIE_NAME}={client.cookies[django_settings.SESSION_COOKIE_NAME].value}"
        return run, editor, cookie.encode()

    settings.WS_RECHECK_S = 60  # the removal's notice closes it
    run, editor, cookie = await database_sync_to_async(setup)()
    comm = WebsocketCommunicator(application, f"/ws/runs/{run.pk}/", headers=[*HEADERS, (b"cookie", cookie)])
    connected, _ = await comm.connect()
    assert connected

    def remove():
        membership_remove(
            membership=Membership.objects.get(workspace=workspace, user=editor),
            by=Membership.objects.get(workspace=workspace, user=owner),
        )

    await database_sync_to_async(remove)()

    assert await _closed_with(comm) == 4403
    await database_sync_to_async(publish_event)(run_id=run.pk, type="run.status", data={"i": 1})
    assert await comm.receive_nothing(timeout=0.5) is True
    await comm.disconnect()


async def test_a_token_revoked_without_notice_is_caught_by_the_periodic_recheck(run_and_token, settings):
    from django.utils import timezone

    from accounts.models import ApiToken

    settings.WS_RECHECK_S = 0.2
    run, token = run_and_token
    comm = communicator(run.pk, token, after=0)
    connected, _ = await comm.connect()
    assert connected
    await database_sync_to_async(publish_event)(run_id=run.pk, type="run.status", data={"i": 1})
    assert [e["seq"] for e in await receive_until(comm, 1)] == [1]

    # when the token is revoked behind the services' back (no notice is sent)
    await database_sync_to_async(lambda: ApiToken.objects.update(revoked_at=timezone.now()))()

    assert await _closed_with(comm) == 4401
    await comm.disconnect()


async def test_a_socket_whose_access_stands_stays_open_across_rechecks(run_and_token, settings):
    settings.WS_RECHECK_S = 0.1
    run, token = run_and_token
    comm = communicator(run.pk, token, after=0)
    connected, _ = await comm.connect()
    assert connected

    assert await comm.receive_nothing(timeout=0.6) is True  # five re-checks passed, no close
    await database_sync_to_async(publish_event)(run_id=run.pk, type="run.status", data={"i": 1})
    assert [e["seq"] for e in await receive_until(comm, 1)] == [1]
    await comm.disconnect()


async def test_a_browser_socket_closes_once_its_session_is_signed_out(make_run, workspace, owner, settings):
    from django.conf import settings as django_settings
    from django.test import Client

    from runs.tests.helpers import line, node, start

    settings.WS_RECHECK_S = 0.2

    def setup():
        client = Client()
        client.force_login(owner)
        return make_run(line(start(), node("end", "end"))), client

    run, client = await database_sync_to_async(setup)()
    cookie = f"{django_settings.SESSION_COOKIE_NAME}={client.cookies[django_settings.SESSION_COOKIE_NAME].value}"
    comm = WebsocketCommunicator(application, f"/ws/runs/{run.pk}/", headers=[*HEADERS, (b"cookie", cookie.encode())])
    connected, _ = await comm.connect()
    assert connected

    await database_sync_to_async(client.post)("/accounts/logout/")

    assert await _closed_with(comm) == 4401
    await comm.disconnect()
