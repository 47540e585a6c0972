"""A small, deterministic OpenAI-compatible model server for tests and keyless demos.

It speaks the real wire protocol (Responses and Chat Completions, JSON and SSE streaming, function
tools, JSON-schema output, usage, moderations, models) so the real `openai` SDK is exercised end to end.

Behaviour, all deterministic:
* text replies echo the last user message (`You said: …`);
* when the prompt mentions a tool by name and no tool result is in the conversation yet, the model calls
  that tool once (arguments built from its JSON Schema); given a tool result it answers with it;
* with a JSON-schema output it returns an object valid for the schema; string fields named like
  intent/category/label are classified by keyword (refund, billing, bug, …) or picked from their enum;
  numeric `score`/`probability` fields rate jailbreak phrasing; booleans named passed/pass/ok are false
  when the text contains insulting words;
* magic phrases inject faults: `[[fail:429]]` (with Retry-After), `[[fail:500]]`, `[[fail-once:429]]` /
  `[[fail-once:500]]` (only the first matching request fails), `[[slow]]` (a long, slow stream),
  `[[hang]]` (no answer for 30 s), `[[invalid-json]]` (first structured answer breaks the schema),
  `[[always-invalid-json]]`. The header `X-Test-Fault: 429|500|slow|hang` does the same.
* the API key `bad-key` is rejected with 401.

Run it: `python -m runs.testing.model_server --port 8765`, then point a provider at
`http://127.0.0.1:8765/v1` with any API key.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODELS = ["gpt-4.1-mini", "gpt-4.1", "gpt-4o-mini", "gpt-4o", "gpt-5-mini", "trellis-test"]
INTENT_KEYWORDS = [
    ("refund", ("refund", "money back", "reimburse")),
    ("billing", ("invoice", "charge", "bill", "payment", "price")),
    ("bug", ("bug", "error", "crash", "broken", "doesn't work", "does not work")),
    ("technical", ("bug", "error", "crash", "broken", "doesn't work", "does not work", "password", "login", "install")),
    ("cancel", ("cancel", "unsubscribe", "close my account")),
    ("greeting", ("hello", "hi ", "good morning")),
]
JAILBREAK_PHRASES = (
    "ignore previous instructions",
    "ignore all previous",
    "ignore your instructions",
    "disregard the above",
    "developer mode",
    "jailbreak",
    "do anything now",
    "reveal your system prompt",
    "pretend you have no rules",
)
FLAG_WORDS = {
    "violence": ("kill", "murder", "bomb", "shoot"),
    "hate": ("hate you", "subhuman"),
    "harassment": ("idiot", "stupid", "loser"),
    "self-harm": ("hurt myself", "suicide"),
}
MODERATION_CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
INSULTS = ("idiot", "stupid", "loser", "hate", "shut up", "[[fail-check]]")
MAX_BODY = 10 * 1024 * 1024


def _tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4)) if text else 0


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict):
                parts.append(str(part.get("text") or part.get("refusal") or ""))
            else:
                parts.append(str(part))
        return "\n".join(p for p in parts if p)
    return str(content)


class Conversation:
    """The protocol-independent view of a request: what the fake model decides from."""

    def __init__(self) -> None:
        self.system: list[str] = []
        self.user: list[str] = []
        self.assistant: list[str] = []
        self.tool_results: list[tuple[str, str]] = []  # (tool name, output)
        self.tools: list[dict] = []  # [{name, description, parameters}]
        self.schema: dict | None = None
        self.tool_choice: Any = "auto"

    @property
    def prompt(self) -> str:
        return "\n".join(self.system + self.user)

    @property
    def all_text(self) -> str:
        """Everything the model reads; usage is its length / 4, rounded up."""
        return "\n".join(self.system + self.user + self.assistant + [out for _, out in self.tool_results])

    @property
    def last_user(self) -> str:
        return self.user[-1] if self.user else (self.system[-1] if self.system else "")


def _from_responses(body: dict) -> Conversation:
    conv = Conversation()
    if body.get("instructions"):
        conv.system.append(str(body["instructions"]))
    items = body.get("input")
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    calls: dict[str, str] = {}
    for item in items or []:
        kind = item.get("type", "message")
        if kind == "message":
            role, text = item.get("role", "user"), _content_text(item.get("content"))
            (
                conv.system if role in ("system", "developer") else conv.assistant if role == "assistant" else conv.user
            ).append(text)
        elif kind == "function_call":
            calls[item.get("call_id", "")] = item.get("name", "tool")
        elif kind == "function_call_output":
            conv.tool_results.append((calls.get(item.get("call_id", ""), "tool"), str(item.get("output", ""))))
    for tool in body.get("tools") or []:
        if tool.get("type") == "function":
            conv.tools.append(
                {"name": tool["name"], "description": tool.get("description", ""), "parameters": tool.get("parameters")}
            )
    conv.tool_choice = body.get("tool_choice", "auto")
    fmt = ((body.get("text") or {}).get("format")) or {}
    if fmt.get("type") == "json_schema":
        conv.schema = fmt.get("schema") or {}
    elif fmt.get("type") == "json_object":
        conv.schema = {"type": "object"}
    return conv


def _from_chat(body: dict) -> Conversation:
    conv = Conversation()
    calls: dict[str, str] = {}
    for msg in body.get("messages") or []:
        role = msg.get("role")
        text = _content_text(msg.get("content"))
        if role in ("system", "developer"):
            conv.system.append(text)
        elif role == "assistant":
            for call in msg.get("tool_calls") or []:
                calls[call.get("id", "")] = (call.get("function") or {}).get("name", "tool")
            conv.assistant.append(text)
        elif role == "tool":
            conv.tool_results.append((calls.get(msg.get("tool_call_id", ""), "tool"), text))
        else:
            conv.user.append(text)
    for tool in body.get("tools") or []:
        fn = tool.get("function") or {}
        if tool.get("type") == "function" and fn.get("name"):
            conv.tools.append(
                {"name": fn["name"], "description": fn.get("description", ""), "parameters": fn.get("parameters")}
            )
    conv.tool_choice = body.get("tool_choice", "auto")
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        conv.schema = (fmt.get("json_schema") or {}).get("schema") or {}
    elif fmt.get("type") == "json_object":
        conv.schema = {"type": "object"}
    return conv


# --- the fake model's decisions -----------------------------------------------------------------


def classify_intent(text: str, choices: list | None = None) -> str:
    low = f" {text.lower()} "
    if choices:
        for choice in choices:
            if isinstance(choice, str) and re.search(rf"\b{re.escape(choice.lower())}\b", low):
                return choice
        for intent, words in INTENT_KEYWORDS:
            if intent in choices and any(w in low for w in words):
                return intent
        fallback = [c for c in choices if str(c).lower() in ("other", "unknown", "none", "general")]
        return fallback[0] if fallback else choices[0]
    for intent, words in INTENT_KEYWORDS:
        if any(w in low for w in words):
            return intent
    return "question"


def jailbreak_score(text: str) -> float:
    low = text.lower()
    hits = sum(1 for phrase in JAILBREAK_PHRASES if phrase in low)
    return 0.05 if hits == 0 else min(0.99, 0.9 + 0.03 * hits)


def _subject(conv: Conversation) -> str:
    return conv.last_user or conv.prompt


def sample(schema: Any, conv: Conversation, name: str = "", depth: int = 0) -> Any:
    """A value valid for `schema` that says something sensible about the conversation."""
    if not isinstance(schema, dict) or depth > 8:
        return _subject(conv)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return classify_intent("\n".join(conv.user) or conv.prompt, list(schema["enum"]))
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return sample(options[0], conv, name, depth + 1)
    if schema.get("allOf"):
        merged: dict = {}
        for part in schema["allOf"]:
            merged.update(part)
        return sample(merged, conv, name, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    low = name.lower()
    if kind == "object" or (kind is None and "properties" in schema):
        props = schema.get("properties") or {}
        return {key: sample(sub, conv, key, depth + 1) for key, sub in props.items()}
    if kind == "array":
        count = max(1, int(schema.get("minItems", 1)))
        return [sample(schema.get("items") or {"type": "string"}, conv, name, depth + 1) for _ in range(count)]
    if kind == "boolean":
        if low in ("passed", "pass", "ok", "valid", "meets_criterion", "compliant", "safe"):
            return not any(word in conv.prompt.lower() for word in INSULTS)
        if low in ("flagged", "is_jailbreak", "unsafe", "violation"):
            return jailbreak_score(_subject(conv)) >= 0.5
        return True
    if kind in ("number", "integer"):
        if "maximum" in schema and schema["maximum"] > 1:
            # A rating on a wide scale (e.g. a lead score 0-100): the middle of the range.
            value: float = (schema.get("minimum", 0) + schema["maximum"]) / 2
        elif low in ("score", "probability", "confidence", "likelihood", "jailbreak_score", "risk"):
            value = jailbreak_score(_subject(conv))
        else:
            value = schema.get("minimum", 1)
        if kind == "integer":
            value = int(round(value))
        if "maximum" in schema:
            value = min(value, schema["maximum"])
        if "minimum" in schema:
            value = max(value, schema["minimum"])
        return value
    if low in ("intent", "category", "label", "topic", "classification"):
        return classify_intent("\n".join(conv.user) or conv.prompt)
    if conv.tool_results:
        text = f"{conv.tool_results[-1][0]} returned {conv.tool_results[-1][1]}"
    elif low in ("reason", "explanation", "rationale"):
        text = "Decided by the local test model's keyword rules."
    else:
        text = _subject(conv)
    max_len = schema.get("maxLength")
    return text[:max_len] if max_len else text


def decide(conv: Conversation) -> dict:
    """-> {"kind": "text", "text": …} or {"kind": "tool", "name": …, "arguments": {...}}."""
    if conv.tools and not conv.tool_results and conv.tool_choice != "none":
        low = conv.prompt.lower()
        for tool in conv.tools:
            names = {tool["name"].lower(), tool["name"].lower().replace("_", " ")}
            if any(n in low for n in names):
                params = tool.get("parameters") or {"type": "object", "properties": {}}
                return {"kind": "tool", "name": tool["name"], "arguments": sample(params, conv)}
    if conv.schema is not None:
        broken = "[[always-invalid-json]]" in conv.prompt or (
            "[[invalid-json]]" in conv.prompt and not any(conv.assistant)
        )
        value = {"unexpected": True} if broken else sample(conv.schema, conv)
        return {"kind": "text", "text": json.dumps(value)}
    if conv.tool_results:
        name, output = conv.tool_results[-1]
        return {"kind": "text", "text": f"The {name} tool returned: {output}"}
    text = f"You said: {conv.last_user}"
    if "[[slow]]" in conv.prompt:
        text = " ".join(["slow"] * 300)
    return {"kind": "text", "text": text}


def _words(text: str) -> list[str]:
    return re.findall(r"\S+\s*|\s+", text) or [text]


# --- HTTP ---------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: ModelHTTPServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without this, keep-alive clients wait ~40 ms for each
    # response on Nagle + delayed ACK.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    # plumbing
    def _send_json(self, status: int, payload: Any, headers: dict | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, kind: str, code: str | None = None, headers: dict | None = None):
        self._send_json(status, {"error": {"message": message, "type": kind, "param": None, "code": code}}, headers)

    def _start_sse(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def _sse(self, data: Any, event: str | None = None) -> None:
        chunk = (
            f"event: {event}\n" if event else ""
        ) + f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n"
        self.wfile.write(chunk.encode())
        self.wfile.flush()

    def do_GET(self) -> None:  # noqa: N802
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "trellis-test"} for m in MODELS]
            return self._send_json(200, {"object": "list", "data": data})
        if self.path.rstrip("/") in ("", "/health"):
            return self._send_json(200, {"ok": True})
        self._error(404, f"Unknown path {self.path}", "invalid_request_error")

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return self._error(413, "Request too large", "invalid_request_error")
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self._error(400, "Body is not JSON", "invalid_request_error")
        path = self.path.split("?", 1)[0].rstrip("/")
        self.server.record(path, body, dict(self.headers))
        auth = self.headers.get("Authorization", "")
        key = auth[7:] if auth.startswith("Bearer ") else ""
        if not key or key == "bad-key":
            return self._error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
        routes = {
            "/v1/responses": self._responses,
            "/v1/chat/completions": self._chat,
            "/v1/moderations": self._moderations,
        }
        handler = routes.get(path) or routes.get("/v1" + path)
        if handler is None:
            return self._error(404, f"Unknown path {self.path}", "invalid_request_error")
        try:
            handler(body)
        except (BrokenPipeError, ConnectionResetError):
            self.server.count("disconnects")

    def _fault(self, body: dict, conv: Conversation | None) -> str | None:
        """Returns 'slow' / 'hang' or None; answers the request itself for error faults (then returns 'done')."""
        text = conv.prompt if conv else json.dumps(body)
        fault = (self.headers.get("X-Test-Fault") or "").strip()
        match = re.search(r"\[\[(fail|fail-once):(\d{3})\]\]", text)
        if match and not fault:
            once = match.group(1) == "fail-once"
            digest = hashlib.sha256(text.encode()).hexdigest()
            if not once or self.server.first_time(digest):
                fault = match.group(2)
        if not fault:
            fault = "slow" if "[[slow]]" in text else "hang" if "[[hang]]" in text else ""
        if fault == "429":
            self.server.count("faults")
            self._error(
                429, "Rate limit reached (injected).", "rate_limit_error", "rate_limit_exceeded", {"Retry-After": "1"}
            )
            return "done"
        if fault.isdigit():
            self.server.count("faults")
            self._error(int(fault), "The server had an error (injected).", "server_error")
            return "done"
        if fault == "hang":
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not self.server.stopping.is_set():
                time.sleep(0.05)
            self._error(504, "Hung request gave up.", "server_error")
            return "done"
        return fault or None

    # --- /v1/responses ---------------------------------------------------------------------------

    def _responses(self, body: dict) -> None:
        conv = _from_responses(body)
        fault = self._fault(body, conv)
        if fault == "done":
            return
        model = body.get("model") or MODELS[0]
        decision = decide(conv)
        resp_id = "resp_" + uuid.uuid4().hex[:24]
        input_tokens = _tokens(conv.all_text)
        if decision["kind"] == "tool":
            args = json.dumps(decision["arguments"])
            item = {
                "type": "function_call",
                "id": "fc_" + uuid.uuid4().hex[:24],
                "call_id": "call_" + uuid.uuid4().hex[:24],
                "name": decision["name"],
                "arguments": args,
                "status": "completed",
            }
            out_text = args
        else:
            out_text = decision["text"]
            item = {
                "type": "message",
                "id": "msg_" + uuid.uuid4().hex[:24],
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": out_text, "annotations": [], "logprobs": []}],
            }
        output_tokens = _tokens(out_text)
        usage = {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens,
        }

        def envelope(status: str, output: list, with_usage: bool) -> dict:
            return {
                "id": resp_id,
                "object": "response",
                "created_at": int(time.time()),
                "status": status,
                "model": model,
                "output": output,
                "usage": usage if with_usage else None,
                "error": None,
                "incomplete_details": None,
                "instructions": body.get("instructions"),
                "metadata": body.get("metadata") or {},
                "parallel_tool_calls": True,
                "temperature": body.get("temperature", 1.0),
                "top_p": 1.0,
                "tool_choice": "auto",
                "tools": body.get("tools") or [],
                "text": body.get("text") or {"format": {"type": "text"}},
                "max_output_tokens": body.get("max_output_tokens"),
            }

        if not body.get("stream"):
            return self._send_json(200, envelope("completed", [item], True))

        self._start_sse()
        seq = iter(range(1_000_000))
        delay = 0.1 if fault == "slow" else 0.0

        def emit(event_type: str, **fields: Any) -> None:
            self._sse({"type": event_type, "sequence_number": next(seq), **fields}, event=event_type)

        emit("response.created", response=envelope("in_progress", [], False))
        emit("response.in_progress", response=envelope("in_progress", [], False))
        if item["type"] == "function_call":
            emit("response.output_item.added", output_index=0, item={**item, "arguments": "", "status": "in_progress"})
            for piece in _chunks(item["arguments"], 8):
                emit("response.function_call_arguments.delta", item_id=item["id"], output_index=0, delta=piece)
            emit(
                "response.function_call_arguments.done",
                item_id=item["id"],
                output_index=0,
                arguments=item["arguments"],
                name=item["name"],
            )
            emit("response.output_item.done", output_index=0, item=item)
        else:
            pending = {**item, "status": "in_progress", "content": []}
            emit("response.output_item.added", output_index=0, item=pending)
            empty_part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
            emit("response.content_part.added", item_id=item["id"], output_index=0, content_index=0, part=empty_part)
            for word in _words(out_text):
                if delay:
                    time.sleep(delay)
                emit(
                    "response.output_text.delta",
                    item_id=item["id"],
                    output_index=0,
                    content_index=0,
                    delta=word,
                    logprobs=[],
                )
            emit(
                "response.output_text.done",
                item_id=item["id"],
                output_index=0,
                content_index=0,
                text=out_text,
                logprobs=[],
            )
            emit(
                "response.content_part.done",
                item_id=item["id"],
                output_index=0,
                content_index=0,
                part=item["content"][0],
            )
            emit("response.output_item.done", output_index=0, item=item)
        emit("response.completed", response=envelope("completed", [item], True))

    # --- /v1/chat/completions -------------------------------------------------------------------

    def _chat(self, body: dict) -> None:
        conv = _from_chat(body)
        fault = self._fault(body, conv)
        if fault == "done":
            return
        model = body.get("model") or MODELS[0]
        decision = decide(conv)
        chat_id = "chatcmpl-" + uuid.uuid4().hex[:24]
        created = int(time.time())
        prompt_tokens = _tokens(conv.all_text)
        if decision["kind"] == "tool":
            call = {
                "id": "call_" + uuid.uuid4().hex[:24],
                "type": "function",
                "function": {"name": decision["name"], "arguments": json.dumps(decision["arguments"])},
            }
            message = {"role": "assistant", "content": None, "tool_calls": [call], "refusal": None}
            finish = "tool_calls"
            out_text = call["function"]["arguments"]
        else:
            out_text = decision["text"]
            message = {"role": "assistant", "content": out_text, "refusal": None}
            finish = "stop"
        completion_tokens = _tokens(out_text)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        if not body.get("stream"):
            payload = {
                "id": chat_id,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
                "usage": usage,
            }
            return self._send_json(200, payload)

        self._start_sse()
        delay = 0.1 if fault == "slow" else 0.0

        def chunk(delta: dict, finish_reason: str | None = None) -> None:
            choice = {"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}
            self._sse(
                {
                    "id": chat_id,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [choice],
                }
            )

        chunk({"role": "assistant", "content": ""})
        if decision["kind"] == "tool":
            call = message["tool_calls"][0]
            head = {"index": 0, "id": call["id"], "type": "function", "function": {"name": call["function"]["name"]}}
            chunk({"tool_calls": [{**head, "function": {**head["function"], "arguments": ""}}]})
            for piece in _chunks(call["function"]["arguments"], 8):
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
        else:
            for word in _words(out_text):
                if delay:
                    time.sleep(delay)
                chunk({"content": word})
        chunk({}, finish)
        if (body.get("stream_options") or {}).get("include_usage"):
            self._sse(
                {
                    "id": chat_id,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [],
                    "usage": usage,
                }
            )
        self._sse("[DONE]")

    # --- /v1/moderations ------------------------------------------------------------------------

    def _moderations(self, body: dict) -> None:
        inputs = body.get("input")
        if not isinstance(inputs, list):
            inputs = [inputs]
        results = []
        for entry in inputs:
            text = _content_text([entry] if isinstance(entry, dict) else entry).lower()
            if self._fault(body, None) == "done":
                return
            categories = {name: False for name in MODERATION_CATEGORIES}
            for category, words in FLAG_WORDS.items():
                categories[category] = any(w in text for w in words)
            scores = {name: 0.97 if hit else 0.01 for name, hit in categories.items()}
            results.append({"flagged": any(categories.values()), "categories": categories, "category_scores": scores})
        model = body.get("model") or "omni-moderation-latest"
        self._send_json(200, {"id": "modr-" + uuid.uuid4().hex[:20], "model": model, "results": results})


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


class ModelHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int]):
        super().__init__(address, _Handler)
        self.lock = threading.Lock()
        self.requests: list[dict] = []
        self.stats: dict[str, int] = {}
        self._seen: set[str] = set()
        self.stopping = threading.Event()

    def record(self, path: str, body: dict, headers: dict) -> None:
        with self.lock:
            self.requests.append({"path": path, "body": body, "headers": headers})
            if len(self.requests) > 1000:
                del self.requests[:500]

    def count(self, name: str) -> None:
        with self.lock:
            self.stats[name] = self.stats.get(name, 0) + 1

    def first_time(self, digest: str) -> bool:
        with self.lock:
            if digest in self._seen:
                return False
            self._seen.add(digest)
            return True


class ModelServer:
    """A running server in a background thread: `base_url` ends in /v1 (what OpenAI(base_url=…) expects)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.httpd = ModelHTTPServer((host, port))
        self.host, self.port = self.httpd.server_address[:2]
        self.base_url = f"http://{self.host}:{self.port}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="model-server", daemon=True)

    def start(self) -> ModelServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def requests(self) -> list[dict]:
        return self.httpd.requests

    @property
    def stats(self) -> dict[str, int]:
        return self.httpd.stats

    def reset(self) -> None:
        with self.httpd.lock:
            self.httpd.requests.clear()
            self.httpd.stats.clear()
            self.httpd._seen.clear()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Deterministic OpenAI-compatible model server for tests and demos.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    server = ModelServer(args.host, args.port)
    print(f"Local test model server on {server.base_url} (any API key works except 'bad-key')", flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()


if __name__ == "__main__":
    main()
