"""A stand-in model for load tests: an OpenAI-compatible server on asyncio that answers every call after a
fixed latency (1 s by default), streaming a short reply, and counts the calls it holds at once. Calls for the
model named `hold` wait `--hold` seconds instead (default 120): a bench holds many runs in flight with them.

Endpoints: `POST /v1/chat/completions` and `POST /v1/responses` (streaming or not), `POST /v1/embeddings` (the
local model's vectors, runs/testing/model_server/embeddings.py), `GET /stats` →
`{"in_flight", "peak", "served", "cancelled"}`, `POST /stats/reset`. Run it with
`python -m runs.testing.slow_model --port P --latency 1.0` (uvicorn, one process, no thread per call).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

from runs.testing.model_server import embeddings

REPLY = ["The ", "answer ", "is ", "forty-two."]
HOLD_MODEL = "hold"


class Stats:
    def __init__(self) -> None:
        self.in_flight = 0
        self.peak = 0
        self.served = 0
        self.cancelled = 0

    def as_dict(self) -> dict:
        return {"in_flight": self.in_flight, "peak": self.peak, "served": self.served, "cancelled": self.cancelled}


def make_app(latency_s: float, hold_s: float = 120.0):
    stats = Stats()

    async def read_body(receive) -> bytes:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                return body

    async def send_json(send, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        await send(
            {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]}
        )
        await send({"type": "http.response.body", "body": data})

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path == "/stats":
            if method == "POST":
                stats.__init__()
            await send_json(send, 200, stats.as_dict())
            return
        if method != "POST" or path not in ("/v1/chat/completions", "/v1/responses", "/v1/embeddings"):
            await send_json(send, 404, {"error": {"message": "not found"}})
            return
        body = json.loads(await read_body(receive) or b"{}")
        stats.in_flight += 1
        stats.peak = max(stats.peak, stats.in_flight)
        holding = True

        def release() -> None:
            nonlocal holding
            if holding:
                holding = False
                stats.in_flight -= 1

        async def send_answer(message: dict) -> None:
            # The call is over for the model once its last bytes are on their way: its client may read them and start
            # its next call before this handler runs again, and that call must not count as one more held at once.
            if message["type"] == "http.response.body" and not message.get("more_body"):
                release()
            await send(message)

        async def answer() -> None:
            await asyncio.sleep(hold_s if body.get("model") == HOLD_MODEL else latency_s)
            if path == "/v1/chat/completions":
                await _chat(send_answer, body)
            elif path == "/v1/embeddings":
                inputs = [body["input"]] if isinstance(body.get("input"), str) else body.get("input") or [""]
                await send_json(send_answer, 200, embeddings.answer(body, inputs, body.get("dimensions") or 256))
            else:
                await _responses(send_answer, body)

        async def disconnected() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        # uvicorn does not cancel an app whose client went away: watch for it, as a real provider stops generating.
        work, watch = asyncio.create_task(answer()), asyncio.create_task(disconnected())
        try:
            await asyncio.wait({work, watch}, return_when=asyncio.FIRST_COMPLETED)
            if work.done():
                work.result()
                stats.served += 1
            else:
                work.cancel()
                stats.cancelled += 1
        finally:
            watch.cancel()
            release()

    return app


async def _sse(send, events: list[dict]) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
    for event in events:
        await send({"type": "http.response.body", "body": f"data: {json.dumps(event)}\n\n".encode(), "more_body": True})
    await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})


async def _chat(send, body: dict) -> None:
    model = body.get("model") or "slow-model"
    cid = f"chatcmpl-{uuid.uuid4().hex[:12]}"
    usage = {"prompt_tokens": 12, "completion_tokens": len(REPLY), "total_tokens": 12 + len(REPLY)}
    if not body.get("stream"):
        message = {"role": "assistant", "content": "".join(REPLY)}
        payload = {
            "id": cid,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": usage,
        }
        data = json.dumps(payload).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": data})
        return

    def chunk(delta: dict, finish=None, with_usage=False) -> dict:
        out = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        if with_usage:
            out["choices"], out["usage"] = [], usage
        return out

    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": piece}) for piece in REPLY]
    events += [chunk({}, "stop"), chunk({}, with_usage=True)]
    await _sse(send, events)


async def _responses(send, body: dict) -> None:
    model = body.get("model") or "slow-model"
    rid = f"resp_{uuid.uuid4().hex[:12]}"
    text = "".join(REPLY)
    response = {
        "id": rid,
        "object": "response",
        "created_at": int(time.time()),
        "model": model,
        "status": "completed",
        "output": [
            {
                "type": "message",
                "id": f"msg_{rid}",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        ],
        "usage": {"input_tokens": 12, "output_tokens": len(REPLY), "total_tokens": 12 + len(REPLY)},
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
    }
    if not body.get("stream"):
        data = json.dumps(response).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": data})
        return
    events = [
        {
            "type": "response.output_text.delta",
            "item_id": f"msg_{rid}",
            "output_index": 0,
            "content_index": 0,
            "delta": piece,
            "sequence_number": i,
            "logprobs": [],
        }
        for i, piece in enumerate(REPLY)
    ]
    events.append({"type": "response.completed", "response": response, "sequence_number": len(REPLY)})
    await _sse(send, events)


def start_process(latency_s: float) -> tuple[subprocess.Popen, int]:
    """The stub in a process of its own on a free port, once it answers: (the process, its port). The benches use
    it; stop it with runs.testing.live_server.stop_processes."""
    from runs.testing.live_server import free_port, stop_processes, wait_until_answers

    port = free_port()
    command = [sys.executable, "-m", "runs.testing.slow_model", "--port", str(port), "--latency", str(latency_s)]
    process = subprocess.Popen(command, cwd=Path(__file__).resolve().parents[2])
    try:
        wait_until_answers(f"http://127.0.0.1:{port}/stats", proc=process)
    except BaseException:
        stop_processes(process)
        raise
    return process, port


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--hold", type=float, default=120.0)
    args = parser.parse_args()
    uvicorn.run(
        make_app(args.latency, args.hold),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        backlog=4096,
        limit_concurrency=None,
        timeout_keep_alive=30,
    )


if __name__ == "__main__":
    main()
