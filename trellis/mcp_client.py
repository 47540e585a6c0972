"""Calls to remote MCP servers (streamable HTTP) through the official `mcp` SDK's client.

Every connection goes through the SSRF guard of trellis/net.py (resolved and checked at connect time, as
for the sync client), every exchange has an overall deadline, and the bytes a server sends are capped
(TRELLIS_MCP_MAX_RESPONSE_BYTES), so a hanging or flooding server fails the call with a clear error.
The core is async (`list_tools_async`, `call_tool_async`): the mcp node and the agent's MCP tools await it on the
engine's I/O loop. `list_tools` / `call_tool` run it on a private event loop for views (fetching a server's tools),
an agent's first look at a server whose tools were never fetched, and tests."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import httpcore
import httpx
from django.conf import settings

from trellis import net

# The SDK logs every session at INFO; what matters (failures) comes back to the caller as McpError.
logging.getLogger("mcp").setLevel(logging.WARNING)


class McpError(Exception):
    """A call to an MCP server failed; `code` says how (blocked_url, timeout, response_too_large, …)."""

    def __init__(self, message: str, *, code: str = "mcp_error", retryable: bool = False):
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable


class McpCancelled(Exception):
    """The caller's cancel event was set while the call was in flight."""


@dataclass
class ToolResult:
    is_error: bool
    structured: Any  # structuredContent, or None
    text: str  # the text parts, joined

    @property
    def value(self) -> Any:
        """What a node outputs: the structured content when there is some, else the text."""
        return self.structured if self.structured is not None else self.text


# --- the guarded, size-capped async transport -------------------------------------------------------


class _AsyncBackend(httpcore.AnyIOBackend):
    """Resolves and checks the host at connect time, then connects to exactly that address."""

    def __init__(self, *, guard: bool):
        self.guard = guard

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        addresses = [host]
        if self.guard:
            try:
                addresses = [str(ip) for ip in await anyio.to_thread.run_sync(net.resolve_checked, host, port)]
            except httpx.ConnectError as exc:
                raise httpcore.ConnectError(str(exc)) from None
        last: Exception | None = None
        for address in addresses:
            try:
                return await super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last = exc
        raise last or httpcore.ConnectError(f"could not connect to {host}")


class _Meter:
    """Bytes received over one exchange; past the cap it records the overflow and cancels the exchange."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.total = 0
        self.overflow = False
        self.failure: McpError | None = None
        self.scope: anyio.CancelScope | None = None

    def fail(self, error: McpError) -> None:
        # The SDK logs a malformed answer and keeps waiting for a valid one: end the exchange instead.
        if self.failure is None:
            self.failure = error
        if self.scope is not None:
            self.scope.cancel()

    def add(self, n: int) -> None:
        self.total += n
        if self.total > self.max_bytes and not self.overflow:
            self.overflow = True
            if self.scope is not None:
                self.scope.cancel()
            raise net.ResponseTooLargeError(f"The server sent more than {self.max_bytes} bytes.")


class _CountingStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, meter: _Meter):
        self.inner = inner
        self.meter = meter

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.inner:
            self.meter.add(len(chunk))
            yield chunk

    async def aclose(self) -> None:
        await self.inner.aclose()


class _Transport(httpx.AsyncHTTPTransport):
    def __init__(self, *, guard: bool, meter: _Meter):
        # No super().__init__(): it would build an SSL context and a pool we would throw away.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=net._ssl_context(), max_connections=4, network_backend=_AsyncBackend(guard=guard)
        )
        self.meter = meter

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.method == "POST":
            self._check_answer(response)
        declared = response.headers.get("content-length")
        if declared and declared.isdigit():
            self.meter.add(0 if int(declared) <= self.meter.max_bytes else int(declared))
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_CountingStream(response.stream, self.meter),
            extensions=response.extensions,
        )

    def _check_answer(self, response: httpx.Response) -> None:
        status = response.status_code
        if status >= 400:
            self.meter.fail(
                McpError(
                    f"The MCP server answered HTTP {status}"
                    + (" (check the headers and their secrets)." if status in (401, 403) else "."),
                    code="http_error",
                    retryable=status == 429 or status >= 500,
                )
            )
        elif status != 202:
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind not in ("application/json", "text/event-stream"):
                self.meter.fail(
                    McpError(
                        "The server did not answer as an MCP server (streamable HTTP): "
                        f"it sent {kind or 'no content type'}, not JSON or an event stream. Check the URL.",
                        code="mcp_protocol_error",
                    )
                )


# --- sessions -----------------------------------------------------------------------------------------


def _limits(timeout_s: float | None, max_bytes: int | None) -> tuple[float, int]:
    return (
        float(timeout_s if timeout_s is not None else settings.MCP_TIMEOUT_S),
        int(max_bytes if max_bytes is not None else settings.MCP_MAX_RESPONSE_BYTES),
    )


@asynccontextmanager
async def _session(url: str, headers: dict[str, str], timeout_s: float, meter: _Meter, guard: bool):
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    if guard:
        try:
            await anyio.to_thread.run_sync(net.check_url, url)
        except net.UnresolvableHostError as exc:
            raise McpError(str(exc), code="connection_error", retryable=True) from None
        except net.BlockedURLError as exc:
            raise McpError(str(exc), code="blocked_url") from None
    client = httpx.AsyncClient(
        transport=_Transport(guard=guard, meter=meter),
        headers=headers,
        timeout=httpx.Timeout(timeout_s),
        follow_redirects=False,
        trust_env=False,
    )
    async with client:
        async with streamable_http_client(url, http_client=client) as (read, write, _):

            async def on_message(message) -> None:
                # The SDK hands a transport or parse error to this handler and keeps the request waiting.
                if isinstance(message, Exception):
                    meter.fail(
                        McpError(
                            "The server did not answer as an MCP server (streamable HTTP): "
                            f"its answer is not a valid JSON-RPC message ({type(message).__name__}).",
                            code="mcp_protocol_error",
                        )
                    )

            async with ClientSession(read, write, message_handler=on_message) as session:
                await session.initialize()
                yield session


async def _exchange(url, headers, timeout_s, max_bytes, guard, work) -> Any:
    """Run `work(session)` with an overall deadline and the byte cap; map every failure to McpError."""
    meter = _Meter(max_bytes)
    result: Any = None
    failure: BaseException | None = None
    with anyio.CancelScope() as scope:
        meter.scope = scope
        scope.deadline = anyio.current_time() + timeout_s
        try:
            async with _session(url, headers, timeout_s, meter, guard) as session:
                result = await work(session)
        except McpError:
            raise
        except Exception as exc:  # noqa: BLE001 - mapped below; the SDK wraps errors in exception groups
            failure = exc
    if meter.failure is not None:
        raise meter.failure
    if meter.overflow:
        raise McpError(
            f"The MCP server's answer is larger than the limit of {max_bytes} bytes (TRELLIS_MCP_MAX_RESPONSE_BYTES).",
            code="response_too_large",
        )
    if scope.cancelled_caught:
        raise McpError(f"The MCP server did not answer within {timeout_s:g} s.", code="timeout", retryable=True)
    if failure is not None:
        raise _mapped(failure, url) from None
    return result


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    found = [exc]
    cause = exc.__cause__ or exc.__context__
    if cause is not None and cause is not exc:
        found.append(cause)
    return found


def _mapped(exc: BaseException, url: str) -> McpError:
    from mcp.shared.exceptions import McpError as SdkMcpError

    for leaf in _leaves(exc):
        if isinstance(leaf, net.BlockedURLError):
            return McpError(str(leaf), code="blocked_url")
        if isinstance(leaf, net.ResponseTooLargeError):
            return McpError(str(leaf), code="response_too_large")
        if isinstance(leaf, httpx.HTTPStatusError):
            status = leaf.response.status_code
            return McpError(
                f"The MCP server answered HTTP {status}.",
                code="http_error",
                retryable=status == 429 or status >= 500,
            )
        if isinstance(leaf, httpx.TimeoutException):
            return McpError("The MCP server timed out.", code="timeout", retryable=True)
        if isinstance(leaf, httpx.TransportError | httpcore.NetworkError | OSError):
            return McpError(
                f"Cannot connect to the MCP server at {url}: {leaf}", code="connection_error", retryable=True
            )
        if isinstance(leaf, SdkMcpError):
            return McpError(f"The MCP server refused the request: {leaf}", code="mcp_protocol_error")
    first = _leaves(exc)[0]
    return McpError(
        f"The server at {url} did not answer as an MCP server (streamable HTTP): {type(first).__name__}: {first}"[
            :1000
        ],
        code="mcp_protocol_error",
    )


def tool_dict(tool: Any) -> dict:
    return {"name": tool.name, "description": tool.description or "", "input_schema": tool.inputSchema or {}}


async def list_tools_async(
    *, url: str, headers: dict[str, str], timeout_s: float | None = None, max_bytes: int | None = None
) -> list[dict]:
    """`[{name, description, input_schema}]` of every tool the server offers (following pagination)."""
    timeout_s, max_bytes = _limits(timeout_s, max_bytes)

    async def work(session) -> list[dict]:
        tools: list[dict] = []
        cursor = None
        for _ in range(100):
            page = await session.list_tools(cursor=cursor)
            tools.extend(tool_dict(t) for t in page.tools)
            cursor = page.nextCursor
            if not cursor:
                break
        return tools

    return await _exchange(url, headers, timeout_s, max_bytes, True, work)


async def call_tool_async(
    *,
    url: str,
    headers: dict[str, str],
    tool: str,
    arguments: dict,
    timeout_s: float | None = None,
    max_bytes: int | None = None,
) -> ToolResult:
    timeout_s, max_bytes = _limits(timeout_s, max_bytes)

    async def work(session) -> ToolResult:
        result = await session.call_tool(tool, arguments)
        texts = [c.text for c in result.content if getattr(c, "type", "") == "text"]
        return ToolResult(is_error=bool(result.isError), structured=result.structuredContent, text="\n".join(texts))

    return await _exchange(url, headers, timeout_s, max_bytes, True, work)


def _run_sync(fn, kwargs: dict, cancel_event: threading.Event | None) -> Any:
    """Run an async call on a private event loop in this thread, cancelling it when `cancel_event` is set."""

    async def main():
        outcome: dict = {}
        async with anyio.create_task_group() as group:

            async def watch():
                while not (cancel_event is not None and cancel_event.is_set()):
                    await anyio.sleep(0.05)
                outcome["cancelled"] = True
                group.cancel_scope.cancel()

            async def call():
                try:
                    outcome["value"] = await fn(**kwargs)
                except McpError as exc:
                    outcome["error"] = exc
                group.cancel_scope.cancel()

            if cancel_event is not None:
                group.start_soon(watch)
            group.start_soon(call)
        if outcome.get("cancelled") and "value" not in outcome:
            raise McpCancelled()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    return anyio.run(main)


def list_tools(*, cancel_event: threading.Event | None = None, **kwargs) -> list[dict]:
    return _run_sync(list_tools_async, kwargs, cancel_event)


def call_tool(*, cancel_event: threading.Event | None = None, **kwargs) -> ToolResult:
    return _run_sync(call_tool_async, kwargs, cancel_event)


def result_text(result: ToolResult) -> str:
    """A tool result as text for a model: the text parts, or the structured content as JSON."""
    if result.text:
        return result.text
    return json.dumps(result.structured, default=str) if result.structured is not None else ""
