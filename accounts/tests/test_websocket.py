"""The /ws/ stack: anonymous and foreign-origin sockets are refused; a session (same origin) or an API
token is accepted. A tiny test-only consumer sits behind exactly the stack trellis.asgi uses.

The socket is driven with asgiref's ApplicationCommunicator (what channels' WebsocketCommunicator wraps):
importing channels.testing pulls in daphne, a server we do not otherwise need."""

import json

import pytest
from asgiref.testing import ApplicationCommunicator
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.routing import URLRouter
from django.conf import settings
from django.test import Client
from django.urls import path

from accounts.services import api_token_create, api_token_revoke
from accounts.websocket import websocket_application

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


class WhoAmI(AsyncJsonWebsocketConsumer):
    async def connect(self):
        await self.accept(subprotocol=self.scope.get("ws_subprotocol"))
        token = self.scope["api_token"]
        await self.send_json({"email": self.scope["user"].email, "token": token.name if token else None})


app = websocket_application(URLRouter([path("ws/whoami/", WhoAmI.as_asgi())]))


def _session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


def _scope(path: str, headers, subprotocols) -> dict:
    raw_path, _, query = path.partition("?")
    return {
        "type": "websocket",
        "path": raw_path,
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "headers": [(b"host", b"127.0.0.1:8000"), *headers],
        "subprotocols": list(subprotocols),
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def _connect(path="/ws/whoami/", headers=(), application=app, subprotocols=(), accepted_with=None):
    """(accepted?, first JSON message) for one socket; `accepted_with` (a list) receives the answered
    subprotocol."""
    communicator = ApplicationCommunicator(application, _scope(path, headers, subprotocols))
    await communicator.send_input({"type": "websocket.connect"})
    first = await communicator.receive_output(timeout=5)
    if accepted_with is not None:
        accepted_with.append(first.get("subprotocol"))
    if first["type"] != "websocket.accept":
        assert first["type"] == "websocket.close"
        await communicator.send_input({"type": "websocket.disconnect", "code": first.get("code", 1000)})
        await communicator.wait(timeout=5)
        return False, None
    message = await communicator.receive_output(timeout=5)
    await communicator.send_input({"type": "websocket.disconnect", "code": 1000})
    await communicator.wait(timeout=5)
    return True, json.loads(message["text"])


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_an_anonymous_socket_is_refused():
    connected, _ = await _connect(headers=[ORIGIN])

    assert connected is False


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_session_from_our_origin_is_accepted(owner):
    cookie = await database_sync_to_async(_session_cookie)(owner)

    connected, body = await _connect(headers=[ORIGIN, (b"cookie", cookie)])

    assert connected is True
    assert body == {"email": owner.email, "token": None}


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_session_from_a_foreign_origin_is_refused(owner):
    cookie = await database_sync_to_async(_session_cookie)(owner)

    connected, _ = await _connect(headers=[(b"origin", b"https://evil.example"), (b"cookie", cookie)])

    assert connected is False


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_session_cookie_without_any_origin_is_refused(owner):
    cookie = await database_sync_to_async(_session_cookie)(owner)

    connected, _ = await _connect(headers=[(b"cookie", cookie)])

    assert connected is False


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_an_api_token_is_accepted_in_the_subprotocol_header_or_the_authorization_header(workspace, owner):
    _, raw = await database_sync_to_async(api_token_create)(workspace=workspace, user=owner, name="ws")
    answered: list = []

    by_pair = await _connect(subprotocols=["trellis", raw], accepted_with=answered)
    by_entry = await _connect(subprotocols=[f"trellis.token.{raw}"], accepted_with=answered)
    by_header = await _connect(headers=[(b"authorization", f"Bearer {raw}".encode())], accepted_with=answered)

    assert by_pair == (True, {"email": owner.email, "token": "ws"})
    assert by_entry == (True, {"email": owner.email, "token": "ws"})
    assert by_header == (True, {"email": owner.email, "token": "ws"})
    # the server answers with one of the offered subprotocols, as browsers require
    assert answered == ["trellis", f"trellis.token.{raw}", None]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_token_in_the_query_string_is_not_read(workspace, owner):
    _, raw = await database_sync_to_async(api_token_create)(workspace=workspace, user=owner, name="ws")

    connected, _ = await _connect(path=f"/ws/whoami/?token={raw}")

    assert connected is False


def test_the_server_log_never_shows_a_token_from_a_query_string():
    import logging

    from accounts.websocket import QueryTokenLogFilter

    record = logging.LogRecord(
        "uvicorn.error",
        logging.INFO,
        __file__,
        1,
        '%s - "WebSocket %s" [accepted]',
        ("127.0.0.1:5000", "/ws/runs/1/?after=3&token=trl_s3cret-Value_x&x=1"),
        None,
    )

    QueryTokenLogFilter().filter(record)

    assert record.getMessage() == '127.0.0.1:5000 - "WebSocket /ws/runs/1/?after=3&token=[redacted]&x=1" [accepted]'


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_token_from_a_foreign_origin_is_refused(workspace, owner):
    _, raw = await database_sync_to_async(api_token_create)(workspace=workspace, user=owner, name="ws")

    connected, _ = await _connect(subprotocols=["trellis", raw], headers=[(b"origin", b"https://evil.example")])

    assert connected is False


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_revoked_or_unknown_token_is_refused(workspace, owner):
    token, raw = await database_sync_to_async(api_token_create)(workspace=workspace, user=owner, name="ws")
    await database_sync_to_async(api_token_revoke)(token=token)

    revoked = await _connect(subprotocols=["trellis", raw])
    unknown = await _connect(subprotocols=["trellis", "trl_nope"])

    assert (revoked[0], unknown[0]) == (False, False)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_project_asgi_app_refuses_anonymous_and_foreign_sockets(owner):
    from trellis.asgi import application

    cookie = await database_sync_to_async(_session_cookie)(owner)

    anonymous = await _connect(path="/ws/runs/x/", headers=[ORIGIN], application=application)
    foreign = await _connect(
        path="/ws/runs/x/", headers=[(b"origin", b"https://evil.example"), (b"cookie", cookie)], application=application
    )

    assert (anonymous[0], foreign[0]) == (False, False)


def _make_run(workspace):
    from builder.models import Workflow
    from runs.models import Run

    workflow = Workflow.objects.create(workspace=workspace, name="w", draft_graph={"format": "trellis.graph/1"})
    return Run.objects.create(workspace=workspace, workflow=workflow, graph={"format": "trellis.graph/1"})


async def _accepted(path, headers=(), subprotocols=()):
    from trellis.asgi import application

    communicator = ApplicationCommunicator(application, _scope(path, headers, subprotocols))
    await communicator.send_input({"type": "websocket.connect"})
    first = await communicator.receive_output(timeout=5)
    await communicator.send_input({"type": "websocket.disconnect", "code": 1000})
    await communicator.wait(timeout=5)
    return first["type"] == "websocket.accept"


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_run_events_socket_accepts_a_members_session_or_token_and_nobody_else(
    workspace, owner, make_workspace
):
    run = await database_sync_to_async(_make_run)(workspace)
    cookie = await database_sync_to_async(_session_cookie)(owner)
    _, raw = await database_sync_to_async(api_token_create)(workspace=workspace, user=owner, name="ws")
    outsider_ws = await database_sync_to_async(make_workspace)(name="Elsewhere")
    outsider = await database_sync_to_async(lambda: outsider_ws.memberships.get().user)()
    outsider_cookie = await database_sync_to_async(_session_cookie)(outsider)
    path = f"/ws/runs/{run.pk}/"

    assert await _accepted(path, [ORIGIN, (b"cookie", cookie)]) is True
    assert await _accepted(path, subprotocols=["trellis", raw]) is True
    assert await _accepted(path, [ORIGIN]) is False
    assert await _accepted(path, [(b"origin", b"https://evil.example"), (b"cookie", cookie)]) is False
    assert await _accepted(path, [ORIGIN, (b"cookie", outsider_cookie)]) is False


@pytest.mark.django_db(transaction=True)
def test_a_real_server_answers_the_token_subprotocol_and_logs_no_query_token(workspace, owner):
    """uvicorn in front: the browser-style `new WebSocket(url, ["trellis", token])` is accepted and answered
    with `trellis`; a token left in a query string is refused and masked in the server's log line."""
    import io
    import logging

    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    from runs.testing.live_server import live_server_thread

    run = _make_run(workspace)
    _, raw = api_token_create(workspace=workspace, user=owner, name="ws")
    server_log = io.StringIO()
    handler = logging.StreamHandler(server_log)
    uvicorn_log = logging.getLogger("uvicorn.error")
    with live_server_thread() as url:
        uvicorn_log.addHandler(handler)
        uvicorn_log.setLevel(logging.INFO)
        try:
            ws_url = url.replace("http://", "ws://") + f"/ws/runs/{run.pk}/"
            with connect(ws_url, subprotocols=["trellis", raw]) as ws:
                answered = ws.subprotocol
            with pytest.raises(InvalidStatus) as refused:
                connect(f"{ws_url}?token={raw}", open_timeout=5)
        finally:
            uvicorn_log.removeHandler(handler)
            uvicorn_log.setLevel(logging.WARNING)

    assert answered == "trellis"
    assert refused.value.response.status_code == 403
    assert f"/ws/runs/{run.pk}/?token=[redacted]" in server_log.getvalue()
    assert raw not in server_log.getvalue()
