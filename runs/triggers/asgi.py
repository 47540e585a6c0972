"""An ASGI guard for webhook paths: refuses a body over TRELLIS_WEBHOOK_MAX_BYTES with 413 before it is
read, which Django cannot do (its ASGI handler spools the whole body before any view runs).

A declared Content-Length over the limit is refused at once; a chunked body is counted as it arrives
and refused as soon as it passes the limit. Wrap the HTTP app: `WebhookBodyLimit(django_asgi_app)`."""

import json

from django.conf import settings

GUARDED_PREFIXES = ("/hooks/", "/v1/")


class WebhookBodyLimit:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(GUARDED_PREFIXES):
            return await self.app(scope, receive, send)
        limit = settings.WEBHOOK_MAX_BODY_BYTES
        if scope["path"].startswith("/v1/"):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > limit:
                    return await _too_large(send, limit)
        # Read (and bound) the body here, then replay it to the app as one message.
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body = message.get("body", b"")
            size += len(body)
            if size > limit:
                return await _too_large(send, limit)
            chunks.append(body)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)


async def _too_large(send, limit: int) -> None:
    body = json.dumps(
        {
            "error": {
                "code": "payload_too_large",
                "message": f"The body is larger than the {limit}-byte limit.",
                "details": [{"limit": limit}],
            }
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
