"""Channels auth for /ws/: a session cookie (browser) or `?token=trl_…` / `Authorization: Bearer` (API).
Anonymous sockets are closed before any consumer sees them."""

from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware

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
        user = scope.get("user")
        if user is None or not user.is_authenticated:
            return await _refuse(send)
        return await super().__call__(scope, receive, send)


async def _refuse(send):
    await send({"type": "websocket.close", "code": 4401})


def TokenOrSessionAuthMiddleware(inner):  # noqa: N802 - reads like the Channels stacks it wraps
    return AuthMiddlewareStack(_TokenMiddleware(inner))
