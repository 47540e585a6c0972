"""Channels security for /ws/: origin check, then a session cookie (browser) or an API token. Anonymous and
foreign-origin sockets are closed before any consumer sees them; consumers find the caller in scope["user"],
the token (or None) in scope["api_token"] and the subprotocol to answer with in scope["ws_subprotocol"].

A token travels in the `Sec-WebSocket-Protocol` header — the pair `trellis, trl_…` (answered with `trellis`)
or one `trellis.token.trl_…` — or, for clients that can set headers, `Authorization: Bearer`. Never in the
URL: query strings end up in access logs (a `?token=` is not read, and is masked in the server's log).

Access is not only checked at connect: consumers re-check it every TRELLIS_WS_RECHECK_S seconds, and at once
when a token is revoked or a membership removed (`notify_access_changed`), and close with
CLOSE_UNAUTHENTICATED or CLOSE_FORBIDDEN."""

import asyncio
import logging
import re
from importlib import import_module
from urllib.parse import urlparse

from asgiref.sync import async_to_sync
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels.middleware import BaseMiddleware
from channels.security.websocket import OriginValidator, WebsocketDenier
from django.conf import settings
from django.contrib.auth import get_user_model

from accounts.authentication import token_lookup
from accounts.models import ApiToken, Membership
from accounts.tokens import TOKEN_PREFIX

log = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401  # no valid credential (never had one, or its token was revoked)
CLOSE_FORBIDDEN = 4403  # authenticated, but no longer allowed to see this (membership removed)
CLOSE_NOT_FOUND = 4404  # unknown, or of another workspace (the two look the same)
SUBPROTOCOL = "trellis"
TOKEN_SUBPROTOCOL_PREFIX = "trellis.token."


def token_from_subprotocols(offered: list[str]) -> tuple[str | None, str | None]:
    """(raw token, subprotocol to answer with) from the subprotocols a client offered."""
    for entry in offered:
        if entry.startswith(TOKEN_SUBPROTOCOL_PREFIX):
            raw = entry[len(TOKEN_SUBPROTOCOL_PREFIX) :]
            return raw, SUBPROTOCOL if SUBPROTOCOL in offered else entry
    if SUBPROTOCOL in offered:
        raw = next((entry for entry in offered if entry.startswith(TOKEN_PREFIX)), None)
        return raw, SUBPROTOCOL
    return None, None


def credential_lost(user, token, session_key: str | None) -> int | None:
    """CLOSE_UNAUTHENTICATED once the socket's credential is gone (a revoked token, a deactivated user, a session
    signed out here or in another tab, or expired), else None. Synchronous: consumers call it from their
    database_sync_to_async access checks, before checking the membership of what they watch."""

    if token is not None:
        if not ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True, user__is_active=True).exists():
            return CLOSE_UNAUTHENTICATED
        return None
    if not get_user_model().objects.filter(pk=user.pk, is_active=True).exists():
        return CLOSE_UNAUTHENTICATED
    if session_key is not None and not import_module(settings.SESSION_ENGINE).SessionStore().exists(session_key):
        return CLOSE_UNAUTHENTICATED
    return None


def watch_access_lost(user, token, session_key: str | None, workspace_id) -> int | None:
    """None while the caller may watch a thing of `workspace_id` (None: the thing is gone), else the close code
    that says why not: the credential, then the workspace (a token is bound to one), then the membership."""

    lost = credential_lost(user, token, session_key)
    if lost is not None:
        return lost
    if workspace_id is None or (token is not None and token.workspace_id != workspace_id):
        return CLOSE_NOT_FOUND
    if not Membership.objects.filter(workspace_id=workspace_id, user_id=user.pk).exists():
        return CLOSE_FORBIDDEN
    return None


def session_key_of(scope) -> str | None:
    """The browser session a socket came with (None for an API token)."""
    if scope.get("api_token") is not None:
        return None
    return getattr(scope.get("session"), "session_key", None)


class WatchingConsumer(AsyncWebsocketConsumer):
    """A read-only socket on one thing of a workspace (a run, a knowledge base). `watch(*groups)` joins the
    thing's groups and the caller's access group, then accepts; `start_rechecks()` re-checks access every
    TRELLIS_WS_RECHECK_S seconds, and at once on `access.changed`. A lost access (the subclass's `access_lost`
    gives the close code) leaves the groups and closes the socket; nothing more is sent on it."""

    async def access_lost(self) -> int | None:
        raise NotImplementedError

    async def watch(self, *groups: str) -> None:
        self.closed = False
        self.groups_joined: list[str] = []
        self.recheck_task = None
        for name in (*groups, access_group(self.scope["user"].pk)):
            await self.channel_layer.group_add(name, self.channel_name)
            self.groups_joined.append(name)
        await self.accept(subprotocol=self.scope.get("ws_subprotocol"))

    def start_rechecks(self) -> None:
        self.recheck_task = asyncio.ensure_future(self._recheck_periodically())

    async def recheck(self) -> bool:
        """Close the socket if the caller lost access; True when it is closed."""
        if getattr(self, "closed", True):
            return True
        code = await self.access_lost()
        if code is None:
            return False
        self.closed = True
        await self._leave()
        await self.close(code=code)
        return True

    async def _recheck_periodically(self) -> None:
        while not self.closed:
            await asyncio.sleep(max(0.05, settings.WS_RECHECK_S))
            try:
                await self.recheck()
            except asyncio.CancelledError:
                raise
            except Exception:  # e.g. the database away for a moment: try again next time
                log.exception("access re-check of %s failed", type(self).__name__)

    async def _leave(self) -> None:
        task, self.recheck_task = getattr(self, "recheck_task", None), None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        for name in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(name, self.channel_name)
        self.groups_joined = []

    async def disconnect(self, code):
        await self._leave()

    async def access_changed(self, message):
        await self.recheck()

    async def receive(self, text_data=None, bytes_data=None):
        if text_data == "ping":
            await self.send(text_data="pong")


def access_group(user_id) -> str:
    return f"access_user_{user_id}"


def notify_access_changed(*, user_id) -> None:
    """Tell this user's open sockets to re-check their access now (a token revoked, a membership removed).
    Best effort: the periodic re-check closes them anyway."""

    try:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(access_group(user_id), {"type": "access.changed"})
    except Exception:
        log.exception("could not notify the sockets of user %s", user_id)


class QueryTokenLogFilter(logging.Filter):
    """Masks `token=` / `access_token=` query values in the ASGI server's log lines (uvicorn logs each
    WebSocket's path with its query string): an old client may still put its token there."""

    PATTERN = re.compile(r"([?&](?:access_)?token=)[^&\s\"']+")

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        masked = self.PATTERN.sub(r"\1[redacted]", message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install_log_filter() -> None:
    for name in ("uvicorn.error", "uvicorn.access", "django.channels.server"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, QueryTokenLogFilter) for f in logger.filters):
            logger.addFilter(QueryTokenLogFilter())


@database_sync_to_async
def _token_user(raw: str):
    token = token_lookup(raw)
    return (token.user, token) if token else (None, None)


class _TokenMiddleware(BaseMiddleware):
    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers") or [])
        auth = headers.get(b"authorization", b"").decode(errors="replace")
        raw, subprotocol = token_from_subprotocols(list(scope.get("subprotocols") or []))
        if raw is None and auth.startswith("Bearer "):
            raw = auth[len("Bearer ") :].strip()
        scope["api_token"] = None
        scope["ws_subprotocol"] = subprotocol
        if raw:
            user, token = await _token_user(raw)
            if user is None:
                return await _refuse(send)
            scope["user"] = user
            scope["api_token"] = token
        elif not scope.get("origin_checked"):
            # A cookie is an ambient credential: only a browser page of our own origin may use it, and
            # browsers always send Origin on WebSockets. Without Origin, only a token authenticates.
            return await _refuse(send)
        user = scope.get("user")
        if user is None or not user.is_authenticated:
            return await _refuse(send)
        return await super().__call__(scope, receive, send)


async def _refuse(send):
    await send({"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED})


class _OriginValidator(OriginValidator):
    """Refuses a foreign Origin; lets a socket without Origin through (marked) for token clients."""

    async def __call__(self, scope, receive, send):
        origin = next((value for name, value in scope.get("headers", []) if name == b"origin"), None)
        if origin is None:
            return await self.application({**scope, "origin_checked": False}, receive, send)
        try:
            parsed = urlparse(origin.decode("latin1"))
        except (UnicodeDecodeError, ValueError):
            parsed = None
        if parsed is None or not self.valid_origin(parsed):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application({**scope, "origin_checked": True}, receive, send)


def _allowed_hosts() -> list[str]:
    hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not hosts:
        hosts = [".localhost", "127.0.0.1", "[::1]"]
    return hosts


def TokenOrSessionAuthMiddleware(inner):  # noqa: N802 - reads like the Channels stacks it wraps
    return AuthMiddlewareStack(_TokenMiddleware(inner))


def websocket_application(inner):
    """The whole /ws/ stack: origin first (a foreign page can't ride the user's cookie), then who is calling."""
    return _OriginValidator(TokenOrSessionAuthMiddleware(inner), _allowed_hosts())
