"""Channels security for /ws/: origin check, then a session cookie (browser) or an API token
(`?token=trl_…` / `Authorization: Bearer`). Anonymous and foreign-origin sockets are closed before any
consumer sees them; consumers find the caller in scope["user"] and the token (or None) in scope["api_token"]."""

from urllib.parse import parse_qs, urlparse

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import OriginValidator, WebsocketDenier
from django.conf import settings

from accounts.authentication import token_lookup


@database_sync_to_async
def _token_user(raw: str):
    token = token_lookup(raw)
    return (token.user, token) if token else (None, None)


class _TokenMiddleware(BaseMiddleware):
    async def __call__(self, scope, receive, send):
        raw = None
        headers = dict(scope.get("headers") or [])
        auth = headers.get(b"authorization", b"").decode(errors="replace")
        if auth.startswith("Bearer "):
            raw = auth[len("Bearer ") :].strip()
        else:
            raw = (parse_qs(scope.get("query_string", b"").decode()).get("token") or [None])[0]
        scope["api_token"] = None
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
    await send({"type": "websocket.close", "code": 4401})


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
