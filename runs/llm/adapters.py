"""One conversation with a model, over either the Responses API or Chat Completions.

Both adapters keep the whole conversation client-side (no stored responses), stream text deltas to a
callback, stop as soon as the run is cancelled, and turn SDK errors into NodeError (retryable for
429/5xx/timeouts/connection errors, final otherwise)."""

from __future__ import annotations

import asyncio
import json
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import openai
from django.conf import settings

from runs.executors.base import NodeError, RunCancelled
from runs.llm.providers import CHAT_COMPLETIONS, Provider
from trellis import net


@dataclass
class ToolCall:
    call_id: str
    name: str
    arguments: str  # JSON text as the model produced it


@dataclass
class Turn:
    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0  # part of input_tokens
    reasoning_tokens: int = 0  # part of output_tokens
    model: str | None = None
    items: list[dict] = field(default_factory=list)  # Responses output items, replayed on the next turn


@dataclass
class ToolSpec:
    name: str
    description: str
    parameters: dict


@asynccontextmanager
async def openai_client(provider: Provider, *, timeout_s: float) -> AsyncIterator[openai.AsyncOpenAI]:
    """An AsyncOpenAI client whose HTTP connections obey the SSRF guard (per provider). Calls made with it run on
    the caller's event loop; cancelling the task closes its connection. Past `timeout_s` (the whole exchange,
    tool turns included) the call fails with a retryable `timeout`."""
    clients = _ClientGroup.of(provider)
    client = clients.take()
    try:
        async with asyncio.timeout(timeout_s):
            yield client
    except TimeoutError:
        raise _timed_out(provider, timeout_s) from None
    finally:
        clients.give(client)


def _timed_out(provider: Provider, timeout_s: float) -> NodeError:
    return NodeError(
        f"Model provider {provider.name!r} did not answer within the node's timeout ({timeout_s:g} s).",
        retryable=True,
        code="timeout",
    )


class _ClientGroup:
    """The kept clients of one provider on one event loop.

    A client per call cost each model call a TCP connect, the SDK's set-up and a close, about a fifth of a run's
    CPU; kept clients keep their connections open between calls (each was checked by the SSRF guard when it
    opened, and stays pinned to the address checked). A client's pool is aiohttp's (trellis/net.py
    `model_http_client`), which finds a free connection without scanning the others, so one client carries
    `PER_CLIENT` calls at once; more clients are made as calls pile up beyond that, and clients left idle
    beyond `IDLE_KEPT` are closed."""

    PER_CLIENT = 1000
    IDLE_KEPT = 4
    TIMEOUT_S = 3600.0  # a backstop: each call's own deadline is openai_client's asyncio.timeout
    _groups: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # loop -> {provider key: group}

    def __init__(self, provider: Provider):
        self.provider = provider
        self.calls: dict[openai.AsyncOpenAI, int] = {}  # client -> calls in flight on it

    @classmethod
    def of(cls, provider: Provider) -> _ClientGroup:
        groups = cls._groups.setdefault(asyncio.get_running_loop(), {})
        key = (provider.base_url, provider.api_key, provider.guard)
        group = groups.get(key)
        if group is None:
            group = groups[key] = cls(provider)
        return group

    def take(self) -> openai.AsyncOpenAI:
        client = next((c for c, n in self.calls.items() if n < self.PER_CLIENT), None)
        if client is None:
            # SDK retries are off: the node's retry policy decides, so attempts are visible as steps.
            client = openai.AsyncOpenAI(
                api_key=self.provider.api_key,
                base_url=self.provider.base_url,
                http_client=net.model_http_client(
                    timeout_s=self.TIMEOUT_S, guard=self.provider.guard, max_connections=self.PER_CLIENT
                ),
                max_retries=0,
                timeout=self.TIMEOUT_S,
            )
        self.calls[client] = self.calls.get(client, 0) + 1
        return client

    def give(self, client: openai.AsyncOpenAI) -> None:
        self.calls[client] -= 1
        if self.calls[client] == 0 and sum(1 for n in self.calls.values() if n == 0) > self.IDLE_KEPT:
            del self.calls[client]
            asyncio.get_running_loop().create_task(client.close())


@contextmanager
def sync_openai_client(
    provider: Provider, *, timeout_s: float, cancel_event: threading.Event
) -> Iterator[openai.OpenAI]:
    """A blocking OpenAI client behind the same guard, for work that runs on a thread of its own (knowledge
    ingestion's embeddings): its connections die on cancel or past `timeout_s`. Node executors use the
    asynchronous `openai_client`."""
    guarded = net.guarded_client(timeout_s=timeout_s, cancel_event=cancel_event, guard=provider.guard)
    with guarded as http_client:
        client = openai.OpenAI(
            api_key=provider.api_key,
            base_url=provider.base_url,
            http_client=http_client,
            max_retries=0,
            timeout=timeout_s,
        )
        try:
            yield client
        except RunCancelled:
            raise
        except Exception as exc:
            # A watchdog abort surfaces as a connection error; say what really happened.
            if guarded.watchdog.reason == "cancelled":
                raise RunCancelled() from exc
            if guarded.watchdog.reason == "deadline" and not isinstance(exc, NodeError):
                raise _timed_out(provider, timeout_s) from exc
            raise


def strict_compatible(schema: Any) -> bool:
    """Whether OpenAI's strict structured-output mode accepts `schema` (closed objects, all keys required)."""
    if isinstance(schema, dict):
        if schema.get("type") == "object" or "properties" in schema:
            props = schema.get("properties") or {}
            if schema.get("additionalProperties") is not False or set(schema.get("required") or []) != set(props):
                return False
        return all(strict_compatible(v) for v in schema.values() if isinstance(v, dict | list))
    if isinstance(schema, list):
        return all(strict_compatible(v) for v in schema)
    return True


def map_error(exc: BaseException, cancel_event: threading.Event | None, provider: Provider) -> BaseException:
    """The NodeError (or RunCancelled) an SDK/transport exception stands for."""
    if cancel_event is not None and cancel_event.is_set():
        return RunCancelled()
    cause = exc.__cause__ or exc.__context__
    for err in (exc, cause):
        if isinstance(err, net.BlockedURLError):
            return NodeError(f"Model provider {provider.name!r}: {err}", code="blocked_url")
        if isinstance(err, net.RequestDeadlineError):
            return NodeError("The model call timed out.", retryable=True, code="timeout")
    where = f"Model provider {provider.name!r}"
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException):
        return NodeError(f"{where} timed out.", retryable=True, code="timeout")
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError):
        return NodeError(f"{where} could not be reached: {cause or exc}", retryable=True, code="connection_error")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        message = _error_message(exc)
        details = {"status": status}
        retry_after = exc.response.headers.get("retry-after") if exc.response is not None else None
        if retry_after:
            details["retry_after"] = retry_after
        if status == 401:
            return NodeError(
                f"{where} rejected the API key (401): {message}. Check the key in Settings → Model providers.",
                code="provider_auth",
                details=details,
            )
        if status == 429:
            return NodeError(
                f"{where} is rate limiting (429): {message}", retryable=True, code="rate_limited", details=details
            )
        if status >= 500:
            return NodeError(
                f"{where} failed ({status}): {message}", retryable=True, code="provider_error", details=details
            )
        return NodeError(f"{where} refused the request ({status}): {message}", code="provider_error", details=details)
    if isinstance(exc, openai.APIError):
        return NodeError(f"{where}: {exc}", retryable=True, code="provider_error")
    return exc


def _error_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if isinstance(body.get("message"), str):
            return body["message"]
    return exc.message


class Conversation:
    """Shared state and the call wrapper; subclasses speak one API style."""

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        provider: Provider,
        *,
        model: str,
        instructions: str | None,
        messages: list[dict],
        tools: list[ToolSpec] | None = None,
        schema: dict | None = None,
        temperature: float | None = None,
        max_output_tokens: int | None = None,
        reasoning_effort: str | None = None,
        cancel_event: threading.Event | None = None,
    ):
        self.client = client
        self.provider = provider
        self.model = model
        self.instructions = instructions or None
        self.tools = tools or []
        self.schema = schema
        self.temperature = temperature
        self.max_output_tokens = max_output_tokens
        self.reasoning_effort = reasoning_effort
        self.cancel_event = cancel_event or threading.Event()
        self.tool_choice: str | None = None  # "none" forbids tool calls while keeping tool history valid
        self.history: list[dict] = []
        for message in messages:
            self.add_message(message["role"], message["content"])

    async def call(self, *, stream: bool = True, on_delta: Callable[[str], None] | None = None) -> Turn:
        if self.cancel_event.is_set():
            raise RunCancelled()
        try:
            return await self._call(stream=stream, on_delta=on_delta or (lambda text: None))
        except (NodeError, RunCancelled):
            raise
        except Exception as exc:
            mapped = map_error(exc, self.cancel_event, self.provider)
            if mapped is exc:
                raise
            raise mapped from exc

    async def _check_cancel(self, stream: Any) -> None:
        if self.cancel_event.is_set():
            await stream.close()
            raise RunCancelled()

    def request_params(self) -> dict:
        """The body the next call would send (without streaming options): what a cost estimate counts."""
        return self._params()

    def _params(self) -> dict:
        raise NotImplementedError

    # implemented per API style
    async def _call(self, *, stream: bool, on_delta: Callable[[str], None]) -> Turn:
        raise NotImplementedError

    def add_message(self, role: str, content: str) -> None:
        raise NotImplementedError

    def add_turn(self, turn: Turn) -> None:
        raise NotImplementedError

    def add_tool_results(self, results: list[tuple[str, str]]) -> None:
        raise NotImplementedError


class ResponsesConversation(Conversation):
    def add_message(self, role: str, content: str) -> None:
        self.history.append({"role": role, "content": content})

    def add_turn(self, turn: Turn) -> None:
        self.history.extend(turn.items)

    def add_tool_results(self, results: list[tuple[str, str]]) -> None:
        for call_id, output in results:
            self.history.append({"type": "function_call_output", "call_id": call_id, "output": output})

    def _params(self) -> dict:
        params: dict[str, Any] = {"model": self.model, "input": list(self.history)}
        if self.instructions:
            params["instructions"] = self.instructions
        if self.tools:
            params["tools"] = [
                {
                    "type": "function",
                    "name": t.name,
                    "description": t.description,
                    "parameters": t.parameters,
                    "strict": strict_compatible(t.parameters),
                }
                for t in self.tools
            ]
            if self.tool_choice:
                params["tool_choice"] = self.tool_choice
        if self.schema is not None:
            params["text"] = {
                "format": {
                    "type": "json_schema",
                    "name": "output",
                    "schema": self.schema,
                    "strict": strict_compatible(self.schema),
                }
            }
        if self.temperature is not None:
            params["temperature"] = self.temperature
        if self.max_output_tokens:
            params["max_output_tokens"] = self.max_output_tokens
        if self.reasoning_effort:
            params["reasoning"] = {"effort": self.reasoning_effort}
        return params

    async def _call(self, *, stream: bool, on_delta: Callable[[str], None]) -> Turn:
        if not stream:
            return self._turn(await _post(self.client, "/responses", self._params()))
        final = None
        events = await _post_streaming(self.client, "/responses", {**self._params(), "stream": True})
        try:
            async for event in events:
                await self._check_cancel(events)
                kind = event.get("type")
                if kind == "response.output_text.delta":
                    on_delta(event.get("delta") or "")
                elif kind in ("response.completed", "response.incomplete"):
                    final = event.get("response")
                elif kind == "response.failed":
                    message = ((event.get("response") or {}).get("error") or {}).get("message") or "the model failed"
                    raise NodeError(f"Model provider {self.provider.name!r}: {message}", retryable=True)
                elif kind == "error":
                    raise NodeError(f"Model provider {self.provider.name!r}: {event.get('message')}", retryable=True)
        finally:
            await events.close()
        await self._check_cancel(events)
        if not isinstance(final, dict):
            raise NodeError(f"Model provider {self.provider.name!r} ended the stream early.", retryable=True)
        return self._turn(final)

    def _turn(self, response: dict) -> Turn:
        turn = Turn(model=response.get("model") or self.model)
        texts = []
        for item in response.get("output") or []:
            if item.get("type") == "function_call":
                turn.tool_calls.append(ToolCall(item["call_id"], item["name"], item.get("arguments") or ""))
            elif item.get("type") == "message":
                texts.extend(p.get("text") or "" for p in item.get("content") or [] if p.get("type") == "output_text")
            turn.items.append(_without_nulls(item))
        turn.text = "".join(texts)
        usage = response.get("usage")
        if usage:
            turn.input_tokens = usage.get("input_tokens") or 0
            turn.output_tokens = usage.get("output_tokens") or 0
            turn.cached_input_tokens = _detail(usage, "input_tokens_details", "cached_tokens")
            turn.reasoning_tokens = _detail(usage, "output_tokens_details", "reasoning_tokens")
        return turn


class ChatConversation(Conversation):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if self.instructions:
            self.history.insert(0, {"role": "system", "content": self.instructions})

    def add_message(self, role: str, content: str) -> None:
        self.history.append({"role": role, "content": content})

    def add_turn(self, turn: Turn) -> None:
        message: dict[str, Any] = {"role": "assistant", "content": turn.text or None}
        if turn.tool_calls:
            message["tool_calls"] = [
                {"id": c.call_id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in turn.tool_calls
            ]
        self.history.append(message)

    def add_tool_results(self, results: list[tuple[str, str]]) -> None:
        for call_id, output in results:
            self.history.append({"role": "tool", "tool_call_id": call_id, "content": output})

    def _params(self) -> dict:
        params: dict[str, Any] = {"model": self.model, "messages": list(self.history)}
        if self.tools:
            params["tools"] = [
                {
                    "type": "function",
                    "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
                }
                for t in self.tools
            ]
            if self.tool_choice:
                params["tool_choice"] = self.tool_choice
        if self.schema is not None:
            params["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "output", "schema": self.schema, "strict": strict_compatible(self.schema)},
            }
        if self.temperature is not None:
            params["temperature"] = self.temperature
        if self.max_output_tokens:
            # `max_tokens` is what OpenAI-compatible servers (Ollama, vLLM, LM Studio) understand.
            params["max_tokens"] = self.max_output_tokens
        if self.reasoning_effort:
            params["reasoning_effort"] = self.reasoning_effort
        return params

    async def _call(self, *, stream: bool, on_delta: Callable[[str], None]) -> Turn:
        turn = Turn(model=self.model)
        if not stream:
            completion = await _post(self.client, "/chat/completions", self._params())
            turn.model = completion.get("model") or self.model
            choices = completion.get("choices") or []
            message = choices[0].get("message") if choices else None
            if message:
                turn.text = message.get("content") or ""
                for call in message.get("tool_calls") or []:
                    function = call.get("function") or {}
                    turn.tool_calls.append(
                        ToolCall(call.get("id") or "", function.get("name") or "", function.get("arguments") or "")
                    )
            if completion.get("usage"):
                _chat_usage(turn, completion["usage"])
            return turn
        body = {**self._params(), "stream": True, "stream_options": {"include_usage": True}}
        chunks = await _post_streaming(self.client, "/chat/completions", body)
        texts: list[str] = []
        calls: dict[int, dict] = {}
        try:
            async for chunk in chunks:
                await self._check_cancel(chunks)
                turn.model = chunk.get("model") or turn.model
                if chunk.get("usage"):
                    _chat_usage(turn, chunk["usage"])
                for choice in chunk.get("choices") or []:
                    delta = choice.get("delta") or {}
                    if delta.get("content"):
                        texts.append(delta["content"])
                        on_delta(delta["content"])
                    for call in delta.get("tool_calls") or []:
                        slot = calls.setdefault(call.get("index", 0), {"id": "", "name": "", "arguments": ""})
                        function = call.get("function") or {}
                        if call.get("id"):
                            slot["id"] = call["id"]
                        if function.get("name"):
                            slot["name"] = function["name"]
                        if function.get("arguments"):
                            slot["arguments"] += function["arguments"]
        finally:
            await chunks.close()
        await self._check_cancel(chunks)
        turn.text = "".join(texts)
        turn.tool_calls = [ToolCall(c["id"], c["name"], c["arguments"]) for _, c in sorted(calls.items())]
        return turn


# The SDK's documented way to call an endpoint with a plain body (`client.post`): `cast_to=object` hands back the
# JSON as parsed, where `responses.create` would build typed models of every request field and streamed event
# (pydantic), which cost more CPU than the rest of a model call. Errors, auth and the HTTP client are the SDK's.
async def _post(client: openai.AsyncOpenAI, path: str, body: dict) -> dict:
    return await client.post(path, body=body, cast_to=object)


async def _post_streaming(client: openai.AsyncOpenAI, path: str, body: dict) -> openai.AsyncStream:
    return await client.post(path, body=body, cast_to=object, stream=True, stream_cls=openai.AsyncStream[object])


def _without_nulls(value: Any) -> Any:
    """A JSON value without null members (an output item as replayed on the next turn, as the SDK's models
    dumped it)."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _detail(usage: dict, group: str, name: str) -> int:
    """A token count nested in the usage details (absent on many OpenAI-compatible servers: 0)."""
    details = usage.get(group)
    value = details.get(name) if isinstance(details, dict) else None
    return value if isinstance(value, int) else 0


def _chat_usage(turn: Turn, usage: dict) -> None:
    turn.input_tokens = usage.get("prompt_tokens") or 0
    turn.output_tokens = usage.get("completion_tokens") or 0
    turn.cached_input_tokens = _detail(usage, "prompt_tokens_details", "cached_tokens")
    turn.reasoning_tokens = _detail(usage, "completion_tokens_details", "reasoning_tokens")


def conversation_for(provider: Provider, client: openai.AsyncOpenAI, **kwargs: Any) -> Conversation:
    cls = ChatConversation if provider.api_style == CHAT_COMPLETIONS else ResponsesConversation
    return cls(client, provider, **kwargs)


def llm_timeout(ctx_remaining: Callable[[float], float]) -> float:
    return ctx_remaining(settings.LLM_REQUEST_TIMEOUT_S)


def parse_json_text(text: str) -> Any:
    """The JSON value in a model's reply (tolerating a ```json fence some compatible servers add)."""
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.strip("`")
        if stripped.lower().startswith("json"):
            stripped = stripped[4:]
    return json.loads(stripped)
