"""Chat benchmark in the default mode: one uvicorn process exactly as `make run` serves it (SQLite, in-memory
channel layer, inline executor with its default threads), the local test model, and visitors that talk to a
published Chat assistant template through the page's own API (cookie, thread, message, SSE stream).

1. Send → first streamed token: one visitor sends N messages (default 50), each in a new thread; the time from
   the POST to the first `token` event of its stream. p50 / p95 (and send → done).
2. Visitors at once, short answers: K visitors (BENCH_CHAT_LEVELS, default 10,25,50) each send one message at
   the same moment and read the streamed answer to its end: answers complete, first-token and done p50 / p95.
3. Streams held: K visitors (BENCH_CHAT_HOLD, default 50) each send a message with a long, slowly streamed answer
   (`[[slow]]`: 300 tokens, one per 0.1 s) and keep their streams open for BENCH_CHAT_WINDOW s (default 12):
   how many streams the process holds open, and how many of them receive tokens in the window (the inline
   executor advances TRELLIS_INLINE_THREADS runs at a time; the others wait in the queue). The slow runs are
   cancelled afterwards.

Run: .venv/bin/python bench/bench_chat.py (a temporary SQLite database; nothing else is touched). Prints its
figures; asserts nothing about them (CONVENTIONS 17).
"""

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runs.testing.live_server import free_port, start_uvicorn, stop_processes, wait_until_answers  # noqa: E402

N = int(os.environ.get("BENCH_CHAT_N", "50"))
LEVELS = [int(x) for x in os.environ.get("BENCH_CHAT_LEVELS", "10,25,50").split(",") if x]
HOLD = int(os.environ.get("BENCH_CHAT_HOLD", "50"))
WINDOW = float(os.environ.get("BENCH_CHAT_WINDOW", "12"))

VAR = Path(tempfile.mkdtemp(prefix="trellis-bench-chat-"))
ENV = {
    k: v
    for k, v in os.environ.items()
    if k not in {"REDIS_URL", "CELERY_BROKER_URL", "DATABASE_URL", "TRELLIS_EXECUTOR", "DJANGO_SETTINGS_MODULE"}
}
ENV.update(
    DJANGO_SETTINGS_MODULE="trellis.settings",
    TRELLIS_VAR_DIR=str(VAR),
    DEBUG="false",
    LOG_LEVEL="WARNING",
    TRELLIS_SCHEDULER="off",
    OPENAI_API_KEY="test-key",
    SECRET_KEY="bench-secret-key-0123456789-0123456789-0123456789",
    TRELLIS_ENCRYPTION_KEY="ZmRlZmF1bHQtdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE=",
)


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


def prepare(model_url: str, port: int) -> str:
    """Migrates the SQLite database and creates a published Chat assistant with an unlimited deployment."""
    ENV.update(OPENAI_BASE_URL=model_url, TRELLIS_PUBLIC_URL=f"http://127.0.0.1:{port}")
    os.environ.update(ENV)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=ENV, check=True)
    import django

    django.setup()
    from accounts.services import user_create, workspace_create
    from builder.services.templates import TEMPLATES
    from chat.services import deployment_create
    from runs.testing.workflows import saved_workflow

    user = user_create(email="bench@example.com", password="bench-password-123")
    workspace = workspace_create(name="Bench", owner=user)
    workflow = saved_workflow(workspace=workspace, by=user, graph=TEMPLATES["chat-assistant"].graph(), name="Chat")
    deployment = deployment_create(
        workflow=workflow, by=user, title="Bench", visitor_rate_limit_per_minute=0, rate_limit_per_minute=0
    )
    from django.db import connections

    connections.close_all()
    return deployment.public_id


class Visitor:
    def __init__(self, base: str, public_id: str):
        import httpx

        self.api = f"/chat/{public_id}/api"
        self.client = httpx.AsyncClient(
            base_url=base, headers={"X-Trellis-Chat": "1"}, timeout=httpx.Timeout(60, read=120)
        )

    async def ask(self, text: str, *, window: float | None = None) -> dict:
        """Sends `text` in a new thread and reads the stream: {first, done, tokens, ok} (seconds from the POST)."""
        thread = (await self.client.post(f"{self.api}/threads")).json()["id"]
        started = time.perf_counter()
        sent = await self.client.post(f"{self.api}/threads/{thread}/messages", json={"message": text})
        if sent.status_code != 202:
            return {"first": None, "done": None, "tokens": 0, "ok": False, "status": sent.status_code}
        out = {"first": None, "done": None, "tokens": 0, "ok": False, "status": 202, "open": False}
        deadline = None if window is None else started + window
        try:
            async with self.client.stream("GET", sent.json()["stream_url"]) as response:
                out["open"] = response.status_code == 200
                kind = None
                lines = response.aiter_lines()
                while True:
                    timeout = None if deadline is None else max(0.01, deadline - time.perf_counter())
                    try:
                        line = await asyncio.wait_for(anext(lines), timeout)
                    except (StopAsyncIteration, TimeoutError):
                        break
                    if line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: ") and kind == "token":
                        out["tokens"] += 1
                        if out["first"] is None:
                            out["first"] = time.perf_counter() - started
                    elif line.startswith("data: ") and kind == "done":
                        out["done"] = time.perf_counter() - started
                        out["ok"] = json.loads(line[6:])["status"] == "done"
                        break
        except Exception as exc:  # a refused or dropped stream counts as a failure
            out["error"] = repr(exc)
        return out

    async def close(self):
        await self.client.aclose()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cancel_leftovers() -> int:
    from runs.models import Run
    from runs.services import run_cancel

    leftovers = list(Run.objects.exclude(status__in=["succeeded", "failed", "cancelled", "timed_out"]))
    for run in leftovers:
        run_cancel(run=run)
    return len(leftovers)


async def wait_idle(timeout: float = 120) -> None:
    from runs.models import Run

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = await asyncio.to_thread(
            lambda: Run.objects.exclude(status__in=["succeeded", "failed", "cancelled", "timed_out"]).count()
        )
        if not busy:
            return
        await asyncio.sleep(0.5)


async def main_async(base: str, public_id: str, pid: int) -> None:
    # 1. send → first token, one visitor, N messages
    visitor = Visitor(base, public_id)
    for i in range(3):  # warm-up
        await visitor.ask(f"warm up {i}")
    results = [await visitor.ask(f"where is my parcel number {i}? it was due on Monday") for i in range(N)]
    await visitor.close()
    firsts = [r["first"] for r in results if r["first"] is not None]
    dones = [r["done"] for r in results if r["done"] is not None]
    print(
        f"send → first token ({N} messages, one visitor): p50 {statistics.median(firsts) * 1000:.0f} ms, "
        f"p95 {percentile(firsts, 0.95) * 1000:.0f} ms; send → done p50 {statistics.median(dones) * 1000:.0f} ms; "
        f"answers complete {sum(r['ok'] for r in results)}/{N}",
        flush=True,
    )

    # 2. K visitors at once, short answers
    for k in LEVELS:
        visitors = [Visitor(base, public_id) for _ in range(k)]
        started = time.perf_counter()
        results = await asyncio.gather(*(v.ask(f"visitor {i} asks about an order") for i, v in enumerate(visitors)))
        wall = time.perf_counter() - started
        await asyncio.gather(*(v.close() for v in visitors))
        firsts = [r["first"] for r in results if r["first"] is not None]
        dones = [r["done"] for r in results if r["done"] is not None]
        ok = sum(r["ok"] for r in results)
        print(
            f"{k:>4} visitors at once, short answers: complete {ok}/{k} in {wall:.1f} s; first token p50 "
            f"{percentile(firsts, 0.5) * 1000:.0f} ms p95 {percentile(firsts, 0.95) * 1000:.0f} ms; done p50 "
            f"{percentile(dones, 0.5) * 1000:.0f} ms p95 {percentile(dones, 0.95) * 1000:.0f} ms; "
            f"server RSS {rss_mb(pid):.0f} MB",
            flush=True,
        )
        await wait_idle()

    # 3. streams held open with long, slow answers
    visitors = [Visitor(base, public_id) for _ in range(HOLD)]
    results = await asyncio.gather(*(v.ask(f"[[slow]] visitor {i}", window=WINDOW) for i, v in enumerate(visitors)))
    rss = rss_mb(pid)
    await asyncio.gather(*(v.close() for v in visitors))
    opened = sum(bool(r.get("open")) for r in results)
    streaming = [r for r in results if r["tokens"] > 0]
    firsts = [r["first"] for r in streaming]
    print(
        f"{HOLD:>4} visitors with slow answers held for {WINDOW:.0f} s: streams open {opened}/{HOLD}, receiving "
        f"tokens {len(streaming)}/{HOLD} (first token p50 {percentile(firsts, 0.5) * 1000:.0f} ms), "
        f"failed {sum(1 for r in results if r.get('error') or r['status'] != 202)}; server RSS {rss:.0f} MB",
        flush=True,
    )
    cancelled = await asyncio.to_thread(cancel_leftovers)
    print(f"(cancelled {cancelled} slow runs still going or queued)", flush=True)
    await wait_idle()


def main() -> int:
    model_port, port = free_port(), free_port()
    model = subprocess.Popen(
        [sys.executable, "-m", "runs.testing.model_server", "--port", str(model_port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    procs = [model]
    try:
        wait_until_answers(f"http://127.0.0.1:{model_port}/v1/models", proc=model)
        public_id = prepare(f"http://127.0.0.1:{model_port}/v1", port)
        web = start_uvicorn(port, args=["--log-level", "warning", "--no-access-log"], cwd=ROOT, env=ENV)
        procs.append(web)
        wait_until_answers(f"http://127.0.0.1:{port}/healthz", proc=web)
        print(
            f"default mode: one uvicorn process, SQLite, inline executor "
            f"({os.environ.get('TRELLIS_INLINE_THREADS', '8')} threads); local test model",
            flush=True,
        )
        asyncio.run(main_async(f"http://127.0.0.1:{port}", public_id, web.pid))
    finally:
        stop_processes(*reversed(procs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
