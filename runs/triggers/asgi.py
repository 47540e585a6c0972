"""An ASGI guard for webhook paths: refuses a body over TRELLIS_WEBHOOK_MAX_BYTES with 413 before it is
read, which Django cannot do (its ASGI handler spools the whole body before any view runs).

A declared Content-Length over the limit is refused at once; a chunked body is counted as it arrives
and refused as soon as it passes the limit. Wrap the HTTP app: `WebhookBodyLimit(django_asgi_app)`."""

import asyncio
import io
import json
import logging
import re
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import RequestAborted
from django.core.handlers.exception import response_for_exception
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.log import log_response

from runs.triggers.hooks import respond
from runs.triggers.webhooks import InboundRequest
from trellis.errors import ApplicationError, error_body, error_response
from trellis.middleware import NUL_MESSAGE, has_nul

logger = logging.getLogger(__name__)

GUARDED_PREFIXES = ("/hooks/", "/v1/", "/mcp")


class WebhookBodyLimit:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(GUARDED_PREFIXES):
            return await self.app(scope, receive, send)
        limit = settings.WEBHOOK_MAX_BODY_BYTES
        if scope["path"].startswith(("/v1/", "/mcp")):
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


HOOK_PATH = re.compile(r"^/hooks/(?:(test)/)?([^/]+)$")


@lru_cache(maxsize=1)
def _security_headers() -> list[tuple[bytes, bytes]]:
    """What SecurityMiddleware and XFrameOptionsMiddleware add to every answer, from the same settings.
    (Their HTTPS redirect and HSTS are for browsers; a webhook sender follows neither.)"""
    found = {
        b"x-content-type-options": "nosniff" if settings.SECURE_CONTENT_TYPE_NOSNIFF else None,
        b"referrer-policy": settings.SECURE_REFERRER_POLICY,
        b"cross-origin-opener-policy": settings.SECURE_CROSS_ORIGIN_OPENER_POLICY,
        b"x-frame-options": settings.X_FRAME_OPTIONS,
    }
    return [(name, str(value).encode()) for name, value in found.items() if value]


class WebhookEndpoint:
    """Serves `POST /hooks/<key>` and `/hooks/test/<key>` straight on ASGI; everything else goes to `app`.

    The same views run under Django's handler (the test client, WSGI), but there a webhook paid several
    milliseconds of CPU for the handler, the sync middleware chain (a thread hop each) and URL routing,
    most of what it cost. This answers with the same code (`hooks.respond`) and the same JSON.
    Sits inside WebhookBodyLimit, which has already bounded and read the body."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith("/hooks/"):
            return await self.app(scope, receive, send)
        match = HOOK_PATH.match(scope["path"])
        try:
            if match is None:  # /hooks/, /hooks/a/b: no such webhook (and no CSRF page from Django)
                status, body, headers = 404, error_body("not_found", "No such webhook."), {}
            else:
                status, body, headers = await self._answer(scope, receive, test=bool(match[1]), key=match[2])
        except Exception:
            logger.exception("webhook %s failed", scope["path"])
            status, body, headers = 500, error_body("server_error", "Internal server error."), {}
        payload = json.dumps(body, cls=DjangoJSONEncoder).encode()
        raw_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
            *_security_headers(),
            *((name.lower().encode("latin-1"), str(value).encode("latin-1")) for name, value in headers.items()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": payload})

    async def _answer(self, scope, receive, *, test: bool, key: str) -> tuple[int, dict, dict]:
        if scope["method"] != "POST":
            return 405, error_body("method_not_allowed", "Webhooks are called with POST."), {"Allow": "POST"}
        if "\x00" in scope["path"]:
            return 400, error_body("bad_request", NUL_MESSAGE), {}
        body = await _read_all(receive)
        try:
            inbound = InboundRequest.from_scope(scope, body, key=key, test=test)
        except ApplicationError as exc:
            return exc.status, error_body(exc.code, exc.message, exc.details), {}
        return await respond(inbound)


async def _read_all(receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


OPENAI_PATHS = {"/v1/chat/completions": "chat", "/v1/responses": "responses"}

# The middlewares of settings.MIDDLEWARE that shape these answers (redirects, security headers, CSP,
# Content-Length), run in their order. The others do nothing here: no static files, no session or CSRF
# (bearer tokens, csrf-exempt views), no messages, no sign-in. ErrorShapeMiddleware keeps its place as
# its NUL check (its 405 reshaping concerns non-JSON answers, which these views never give).
_SHAPING_MIDDLEWARE = (
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
)
_ERROR_SHAPE = "trellis.middleware.ErrorShapeMiddleware"


class _NulCheck:
    def process_request(self, request):
        query = ((key, value) for key, values in request.GET.lists() for value in values)
        if has_nul(request.path, query, request.headers.values()):
            return error_response("bad_request", NUL_MESSAGE)
        return None

    def process_response(self, request, response):
        return response


def _unreachable(request):
    raise AssertionError("only the middlewares' process_request and process_response are called")


@lru_cache(maxsize=1)
def _shaping_middleware() -> list[tuple]:
    """(process_request, process_response) of each, either None where the middleware has none."""
    from django.utils.module_loading import import_string

    layers = [
        _NulCheck() if path == _ERROR_SHAPE else import_string(path)(get_response=_unreachable)
        for path in settings.MIDDLEWARE
        if path in _SHAPING_MIDDLEWARE or path == _ERROR_SHAPE
    ]
    return [(getattr(layer, "process_request", None), getattr(layer, "process_response", None)) for layer in layers]


class OpenAICompatEndpoint:
    """Serves `/v1/chat/completions` and `/v1/responses` straight on ASGI; everything else goes to `app`.

    Under Django's handler every call crossed the sync middleware chain (thread hops each way, the async view
    bounced back to the loop) and Django's request signals before its run could start, time added to a streamed
    reply's first token. This runs the same view (`openai_compat._serve`)
    on the loop with the middlewares that shape its answer applied in order, Django's exception
    handling (a 404 from the role check is the JSON 404) and logging of error answers, and Django's own
    response sending, so status, headers and body are the ones Django gives. Sits inside
    WebhookBodyLimit, which has already bounded and read the body."""

    def __init__(self, app):
        self.app = app
        self._sender = None

    async def __call__(self, scope, receive, send):
        api = OPENAI_PATHS.get(scope["path"]) if scope["type"] == "http" else None
        if api is None:
            return await self.app(scope, receive, send)
        from django.core.handlers.asgi import ASGIHandler, ASGIRequest

        if self._sender is None:
            self._sender = ASGIHandler.__new__(ASGIHandler)  # only its send_response: no middleware loaded
        body = await _read_all(receive)
        try:
            request = ASGIRequest(scope, io.BytesIO(body))
        except UnicodeDecodeError:
            return await self.app(scope, _replay(body, receive), send)  # Django's own 400
        # As Django's handler does: stop the view (and a stream's run listener) when the client goes away.
        serving = asyncio.create_task(self._serve(request, api, send))
        watching = asyncio.create_task(_disconnect(receive))
        await asyncio.wait((serving, watching), return_when=asyncio.FIRST_COMPLETED)
        for task in (watching, serving):
            if not task.done():
                task.cancel()
            try:
                await task
            except (asyncio.CancelledError, RequestAborted):
                pass

    async def _serve(self, request, api: str, send) -> None:
        from runs.triggers import openai_compat

        middleware = _shaping_middleware()
        response, depth = None, len(middleware)
        for index, (process_request, _) in enumerate(middleware):
            response = process_request(request) if process_request else None
            if response is not None:  # a redirect or refusal: only the layers it went through see it
                depth = index + 1
                break
        if response is None:
            try:
                response = await openai_compat._serve(request, api=api)
            except Exception as exc:  # Http404, PermissionDenied … as Django renders them; else a 500
                response = response_for_exception(request, exc)
        for _, process_response in reversed(middleware[:depth]):
            if process_response:
                response = process_response(request, response)
        if response.status_code >= 400:
            log_response("%s: %s", response.reason_phrase, request.path, response=response, request=request)
        await self._sender.send_response(response, send)


def _replay(body: bytes, receive):
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _disconnect(receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise RequestAborted()
