"""The `http_request` node: one templated HTTP call through the SSRF-guarded client.

Output: {"status", "headers", "body", "url"}; `body` is parsed JSON when `expect` is json (the default)
and text otherwise. 429/5xx/timeouts/connection errors are retryable; other 4xx are final."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
from django.conf import settings

from runs.executors.base import NodeContext, NodeError, NodeExecutor, NodeResult, register
from trellis import net

DEFAULT_TIMEOUT_S = 30.0
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}
SAFE_METHODS = {"GET", "HEAD"}
ERROR_BODY_CHARS = 500


def auth_headers(ctx: NodeContext, auth: Any) -> dict[str, str]:
    """Headers for a `{type: bearer|header|basic, secret, header?, username?}` credential field."""
    if not auth:
        return {}
    if not isinstance(auth, dict) or not auth.get("secret"):
        raise NodeError("`auth` needs a type (bearer, header or basic) and the name of a workspace secret.")
    try:
        value = ctx.resolve_secret(str(auth["secret"]))
    except NodeError:
        raise
    except Exception as exc:
        raise NodeError(f"Secret {auth['secret']!r} could not be read: {getattr(exc, 'message', exc)}") from None
    kind = auth.get("type", "bearer")
    if kind == "bearer":
        return {"Authorization": f"Bearer {value}"}
    if kind == "header":
        header = str(auth.get("header") or "")
        if not header:
            raise NodeError("`auth.header` must name the header that carries the secret.")
        return {header: value}
    if kind == "basic":
        # The secret is either the password (with auth.username) or "username:password".
        pair = f"{auth['username']}:{value}" if auth.get("username") else value
        encoded = base64.b64encode(pair.encode()).decode()
        # The encoded pair reveals the secret as surely as the secret itself (a server that echoes the
        # request, like httpbin's /anything, would put it in the step output): redact it too.
        ctx.services.get("redact", lambda _value: None)(encoded)
        return {"Authorization": "Basic " + encoded}
    raise NodeError(f"Unknown auth type {kind!r}; use bearer, header or basic.")


@register
class HttpRequestExecutor(NodeExecutor):
    type = "http_request"

    is_async = True

    async def run_async(self, ctx: NodeContext) -> NodeResult:
        cfg = ctx.config
        method = str(cfg.get("method") or "GET").upper()
        if method not in METHODS:
            raise NodeError(f"Unsupported HTTP method {method!r}.")
        url = ctx.render(str(cfg.get("url") or "")).strip()
        if not url:
            raise NodeError("The request has no URL.")
        headers = {str(k): ctx.render(str(v)) for k, v in (cfg.get("headers") or {}).items()}
        query = {str(k): ctx.render(str(v)) for k, v in (cfg.get("query") or {}).items()}
        if cfg.get("auth"):
            headers.update(await ctx.blocking(auth_headers, ctx, cfg.get("auth")))  # reads a secret
        content, json_body = self._body(ctx, cfg.get("body"))
        if method not in SAFE_METHODS and ctx.idempotency_key:
            headers.setdefault("Idempotency-Key", ctx.idempotency_key)
        timeout_s = ctx.remaining_s(float(cfg.get("timeout_s") or DEFAULT_TIMEOUT_S))

        try:
            response = await net.guarded_request_async(
                method,
                url,
                headers=headers,
                params=query or None,
                content=content,
                json=json_body,
                timeout_s=timeout_s,
                max_bytes=settings.HTTP_MAX_RESPONSE_BYTES,
            )
        except net.BlockedURLError as exc:
            raise NodeError(str(exc), code="blocked_url") from None
        except net.ResponseTooLargeError as exc:
            raise NodeError(f"{exc} (TRELLIS_HTTP_MAX_RESPONSE_BYTES)", code="response_too_large") from None
        except httpx.TimeoutException:
            raise NodeError(f"The request timed out after {timeout_s:g} s.", retryable=True, code="timeout") from None
        except httpx.TooManyRedirects as exc:
            raise NodeError(str(exc), code="too_many_redirects") from None
        except (httpx.TransportError, httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise NodeError(f"The request failed: {exc}", retryable=True, code="connection_error") from None

        status = response.status_code
        if status >= 400:
            retryable = status == 429 or status >= 500 or status == 408
            details = {"status": status, "body": ctx.excerpt(response.text, ERROR_BODY_CHARS)}
            if response.headers.get("retry-after"):
                details["retry_after"] = response.headers["retry-after"]
            raise NodeError(
                f"{method} {_display_url(response.url)} answered {status}.",
                retryable=retryable,
                code="http_error",
                details=details,
            )
        return NodeResult(
            output={
                "status": status,
                "headers": dict(response.headers),
                "body": self._parse(ctx, response, cfg.get("expect") or "json"),
                "url": _display_url(response.url),
            }
        )

    @staticmethod
    def _body(ctx: NodeContext, body: Any) -> tuple[str | None, Any]:
        if body is None or body == "":
            return None, None
        if isinstance(body, str):
            return ctx.render(body), None
        if isinstance(body, dict):
            return None, {key: ctx.evaluate(expr) for key, expr in body.items()}
        raise NodeError("`body` must be a template string or a map of key → expression.")

    @staticmethod
    def _parse(ctx: NodeContext, response: net.GuardedResponse, expect: str) -> Any:
        if expect == "text" or not response.content:
            return response.text
        try:
            return json.loads(response.content)
        except ValueError:
            raise NodeError(
                "The response is not JSON (set `expect` to text to accept any body).",
                code="invalid_response",
                details={"body": ctx.excerpt(response.text, ERROR_BODY_CHARS)},
            ) from None


def _display_url(url: str) -> str:
    # Strip any userinfo so credentials in a URL never reach the step output.
    parsed = httpx.URL(url)
    return str(parsed.copy_with(username=None, password=None)) if parsed.userinfo else url
