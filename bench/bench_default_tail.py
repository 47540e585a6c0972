"""The default mode's tail: 10 clients at once send synchronous webhooks (`?wait=30`) to a published
start → transform → end workflow, in default mode (one uvicorn process, SQLite, the in-process executor, as
`make run` serves it). Each answer carries the run's output, so its latency is ingest + run + answer.

Two rounds: the web process otherwise idle, then the same right after 10 more connections sent BENCH_TAIL_FLOOD
(default 300) asynchronous webhooks to a start → agent → end workflow whose model answers in 1 s
(runs/testing/slow_model.py), so the web process also drives hundreds of runs in flight. Prints p50 / p99 / max
of each, and the peak of model calls in flight (the issue's figure: p99 ≤ 150 ms at 10 connections).

Run: .venv/bin/python bench/bench_default_tail.py  (BENCH_TAIL_N requests per round, default 600). Asserts nothing.
"""

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_llm_concurrency import GRAPH as AGENT_GRAPH  # noqa: E402
from bench_llm_concurrency import base_env, publish  # noqa: E402
from loadgen import Connection  # noqa: E402

from runs.testing import slow_model  # noqa: E402
from runs.testing.live_server import free_port, start_uvicorn, stop_processes, wait_until_answers  # noqa: E402

N = int(os.environ.get("BENCH_TAIL_N", "600"))
FLOOD = int(os.environ.get("BENCH_TAIL_FLOOD", "300"))
CONNECTIONS = 10

TRANSFORM_GRAPH = {
    "format": "trellis.graph/1",
    "nodes": [
        {"id": "start", "type": "start", "name": "Start", "position": {"x": 0, "y": 0}, "config": {}},
        {
            "id": "double",
            "type": "transform",
            "name": "Double",
            "position": {"x": 200, "y": 0},
            "config": {"output": {"y": "int(workflow.input.x) * 2"}},
        },
        {
            "id": "done",
            "type": "end",
            "name": "Done",
            "position": {"x": 400, "y": 0},
            "config": {"output": {"y": "nodes.double.output.y"}},
        },
    ],
    "edges": [
        {"id": "e1", "source": "start", "target": "double"},
        {"id": "e2", "source": "double", "target": "done"},
    ],
}


async def sync_round(port: int, key: str, n: int) -> list[float]:
    latencies: list[float] = []
    left = iter(range(n))

    async def client() -> None:
        connection = Connection(port)
        try:
            for i in left:
                started = time.perf_counter()
                status, answer = await connection.post(f"/hooks/{key}?wait=30", {"x": i})
                latencies.append((time.perf_counter() - started) * 1000)
                if status != 200 or not isinstance(answer, dict) or answer.get("output") != {"y": 2 * i}:
                    raise RuntimeError(f"sync webhook answered {status}: {str(answer)[:300]}")
        finally:
            await connection.close()

    await asyncio.gather(*(client() for _ in range(CONNECTIONS)))
    return latencies


async def background(port: int, key: str, stop: asyncio.Event) -> int:
    """FLOOD asynchronous agent webhooks from 10 connections (fewer if `stop` comes first); returns how many."""
    sent = 0

    async def client() -> None:
        nonlocal sent
        connection = Connection(port)
        try:
            while not stop.is_set() and sent < FLOOD:
                sent += 1
                status, answer = await connection.post(f"/hooks/{key}", {"message": f"question {sent}"})
                if status != 202:
                    raise RuntimeError(f"webhook answered {status}: {str(answer)[:200]}")
        finally:
            await connection.close()

    await asyncio.gather(*(client() for _ in range(CONNECTIONS)))
    return sent


async def loaded_round(port: int, sync_key: str, background_key: str) -> tuple[list[float], int]:
    stop = asyncio.Event()
    flood = asyncio.create_task(background(port, background_key, stop))
    await asyncio.sleep(1)  # let runs pile up in flight first
    try:
        latencies = await sync_round(port, sync_key, N)
    finally:
        stop.set()
    return latencies, await flood


def stub_stats(port: int, reset: bool = False) -> dict:
    import httpx

    return httpx.request("POST" if reset else "GET", f"http://127.0.0.1:{port}/stats", timeout=10).json()


def summary(latencies: list[float]) -> tuple[float, float, float]:
    return statistics.median(latencies), statistics.quantiles(latencies, n=100)[98], max(latencies)


def main() -> None:
    stub, model_port = slow_model.start_process(1.0)
    web = None
    try:
        db_path = os.path.join(tempfile.mkdtemp(prefix="trellis-bench-tail-"), "bench.sqlite3")
        env = base_env(db_path, model_port)
        keys, _ = publish(env, {"Double": TRANSFORM_GRAPH, "Ask": AGENT_GRAPH})
        sync_key, background_key = keys["Double"], keys["Ask"]
        port = free_port()
        web = start_uvicorn(port, args=["--log-level", "warning", "--no-access-log"], cwd=ROOT, env=env)
        wait_until_answers(f"http://127.0.0.1:{port}/healthz", proc=web)
        asyncio.run(sync_round(port, sync_key, 50))  # warm-up
        idle = asyncio.run(sync_round(port, sync_key, N))
        stub_stats(model_port, reset=True)
        loaded, sent = asyncio.run(loaded_round(port, sync_key, background_key))
        peak = stub_stats(model_port)["peak"]
    finally:
        stop_processes(*(p for p in (web, stub) if p is not None))
    print(f"\nDefault mode, {CONNECTIONS} connections of sync webhooks (?wait=30) → start → transform → end, {N} each:")
    print(f"  {'':<44}{'p50 (ms)':>10}{'p99 (ms)':>10}{'max (ms)':>10}")
    for label, values in (("web process otherwise idle", idle), (f"with {FLOOD} agent runs sent just before", loaded)):
        p50, p99, top = summary(values)
        print(f"  {label:<44}{p50:>10.1f}{p99:>10.1f}{top:>10.1f}")
    print(f"  (meanwhile: {sent} agent webhooks accepted, up to {peak} model calls in flight)")


if __name__ == "__main__":
    main()
