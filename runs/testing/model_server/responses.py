"""POST /v1/responses: one output item (a message or a function call), as JSON or as the Responses
API's typed event stream."""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING, Any

from runs.testing.model_server.conversation import from_responses, tokens
from runs.testing.model_server.faults import apply_fault
from runs.testing.model_server.replies import MODELS, decide
from runs.testing.model_server.sse import chunks, send_event, start_sse, words

if TYPE_CHECKING:
    from runs.testing.model_server.server import Handler


def respond(handler: Handler, body: dict) -> None:
    conv = from_responses(body)
    fault = apply_fault(handler, body, conv)
    if fault == "done":
        return
    model = body.get("model") or MODELS[0]
    decision = decide(conv)
    resp_id = "resp_" + uuid.uuid4().hex[:24]
    input_tokens = tokens(conv.all_text)
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
    output_tokens = tokens(out_text)
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
        return handler.send_json(200, envelope("completed", [item], True))

    start_sse(handler)
    seq = iter(range(1_000_000))
    delay = 0.1 if fault == "slow" else handler.server.word_delay_s

    def emit(event_type: str, **fields: Any) -> None:
        send_event(handler, {"type": event_type, "sequence_number": next(seq), **fields}, event=event_type)

    emit("response.created", response=envelope("in_progress", [], False))
    emit("response.in_progress", response=envelope("in_progress", [], False))
    if item["type"] == "function_call":
        emit("response.output_item.added", output_index=0, item={**item, "arguments": "", "status": "in_progress"})
        for piece in chunks(item["arguments"], 8):
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
        for word in words(out_text):
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
