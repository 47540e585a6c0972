"""The ASGI guard refuses oversized webhook bodies before reading them."""

import asyncio

from runs.triggers.asgi import WebhookBodyLimit


def _call(path: str, messages: list[dict], headers: list | None = None):
    received: list[dict] = []
    sent: list[dict] = []
    reached: list[bytes] = []
    queue = list(messages)

    async def app(scope, receive, send):
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        reached.append(body)
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def receive():
        message = queue.pop(0)
        received.append(message)
        return message

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "path": path, "method": "POST", "headers": headers or []}
    asyncio.run(WebhookBodyLimit(app)(scope, receive, send))
    return sent[0]["status"], reached, len(received)


def test_a_declared_length_over_the_limit_is_refused_without_reading(settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 1024
    chunks = [{"type": "http.request", "body": b"x" * 1000, "more_body": True}] * 5

    status, reached, read = _call("/hooks/k", chunks, headers=[(b"content-length", b"5000")])

    assert (status, reached, read) == (413, [], 0)


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 1024
    chunks = [{"type": "http.request", "body": b"x" * 600, "more_body": True}] * 100

    status, reached, read = _call("/hooks/k", chunks)

    assert (status, reached, read) == (413, [], 2)


def test_a_body_within_the_limit_reaches_the_app_intact(settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 1024
    chunks = [
        {"type": "http.request", "body": b"a" * 500, "more_body": True},
        {"type": "http.request", "body": b"b" * 500, "more_body": False},
    ]

    status, reached, _ = _call("/hooks/k", chunks)

    assert status == 202
    assert reached == [b"a" * 500 + b"b" * 500]


def test_other_paths_pass_through_untouched(settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 1024
    chunks = [{"type": "http.request", "body": b"x" * 5000, "more_body": False}]

    status, reached, _ = _call("/api/v1/workflows", chunks, headers=[(b"content-length", b"5000")])

    assert (status, reached) == (202, [b"x" * 5000])
