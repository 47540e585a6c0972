"""POST /v1/chat/completions: one choice (text or a tool call), as JSON or as `chat.completion.chunk`
events ending in `[DONE]`, with the usage chunk when `stream_options.include_usage` asks for it."""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING

from runs.testing.model_server.conversation import from_chat, tokens
from runs.testing.model_server.faults import apply_fault
from runs.testing.model_server.replies import MODELS, decide
from runs.testing.model_server.sse import chunks, send_event, start_sse, words

if TYPE_CHECKING:
    from runs.testing.model_server.server import Handler


def respond(handler: Handler, body: dict) -> None:
    conv = from_chat(body)
    fault = apply_fault(handler, body, conv)
    if fault == "done":
        return
    model = body.get("model") or MODELS[0]
    decision = decide(conv)
    chat_id = "chatcmpl-" + uuid.uuid4().hex[:24]
    created = int(time.time())
    prompt_tokens = tokens(conv.all_text)
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
    completion_tokens = tokens(out_text)
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
        return handler.send_json(200, payload)

    start_sse(handler)
    delay = 0.1 if fault == "slow" else handler.server.word_delay_s

    def send_chunk(choices: list, **extra) -> None:
        envelope = {"id": chat_id, "object": "chat.completion.chunk", "created": created, "model": model}
        send_event(handler, {**envelope, "choices": choices, **extra})

    def chunk(delta: dict, finish_reason: str | None = None) -> None:
        send_chunk([{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}])

    chunk({"role": "assistant", "content": ""})
    if decision["kind"] == "tool":
        call = message["tool_calls"][0]
        head = {"index": 0, "id": call["id"], "type": "function", "function": {"name": call["function"]["name"]}}
        chunk({"tool_calls": [{**head, "function": {**head["function"], "arguments": ""}}]})
        for piece in chunks(call["function"]["arguments"], 8):
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
    else:
        for word in words(out_text):
            if delay:
                time.sleep(delay)
            chunk({"content": word})
    chunk({}, finish)
    if (body.get("stream_options") or {}).get("include_usage"):
        send_chunk([], usage=usage)
    send_event(handler, "[DONE]")
