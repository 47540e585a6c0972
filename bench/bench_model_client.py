"""CPU per streamed model call through the `openai` SDK, by the HTTP client under it: httpx's own connection
pool (httpcore on anyio, what trellis/net.py `async_guarded_client` builds) against aiohttp under httpx's
interface (`model_http_client`, what runs/llm/adapters.py uses). Both guarded, both through `client.post` with a
streamed `/v1/responses` body, as the agent node calls it.

The model is runs/testing/slow_model.py on loopback, answering after BENCH_MC_LATENCY_S (default 0.05 s);
BENCH_MC_CALLS calls (default 3000), BENCH_MC_CONCURRENCY at once (default 200). The CPU is this process's: the
client side of a call, which is what a worker spends. Each client is measured twice, alternating.

Run: .venv/bin/python bench/bench_model_client.py. Asserts nothing (CONVENTIONS 17).
"""

import asyncio
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trellis.settings")

import django  # noqa: E402

django.setup()

import openai  # noqa: E402

from runs.testing import slow_model  # noqa: E402
from runs.testing.live_server import stop_processes  # noqa: E402
from trellis import net  # noqa: E402

CALLS = int(os.environ.get("BENCH_MC_CALLS", "3000"))
CONCURRENCY = int(os.environ.get("BENCH_MC_CONCURRENCY", "200"))
LATENCY_S = float(os.environ.get("BENCH_MC_LATENCY_S", "0.05"))
CLIENTS = {
    # httpcore scans its whole pool per request: the adapters kept 8 connections per client on it.
    "httpx (httpcore)": lambda: [
        net.async_guarded_client(timeout_s=60, guard=False, max_connections=8) for _ in range(max(1, CONCURRENCY // 8))
    ],
    "aiohttp under httpx": lambda: [net.model_http_client(timeout_s=60, guard=False, max_connections=1000)],
}


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def measure(name: str, base_url: str) -> tuple[float, float]:
    """(ms of CPU per call, calls per second) for the client `name`."""
    clients = [
        openai.AsyncOpenAI(api_key="bench", base_url=base_url, http_client=http, max_retries=0)
        for http in CLIENTS[name]()
    ]
    gate = asyncio.Semaphore(CONCURRENCY)

    async def call(i: int) -> None:
        async with gate:
            stream = await clients[i % len(clients)].post(
                "/responses",
                body={"model": "bench", "input": "hi", "stream": True},
                cast_to=object,
                stream=True,
                stream_cls=openai.AsyncStream[object],
            )
            async for _event in stream:
                pass

    await asyncio.gather(*(call(i) for i in range(CONCURRENCY)))  # connections open, code warm
    started, cpu = time.monotonic(), cpu_s()
    await asyncio.gather(*(call(i) for i in range(CALLS)))
    figures = (cpu_s() - cpu) / CALLS * 1000, CALLS / (time.monotonic() - started)
    for client in clients:
        await client.close()
    return figures


def main() -> None:
    model, port = slow_model.start_process(LATENCY_S)
    try:
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in CLIENTS}
        for _ in range(2):
            for name in CLIENTS:
                results[name].append(asyncio.run(measure(name, f"http://127.0.0.1:{port}/v1")))
    finally:
        stop_processes(model)
    print(f"\n{CALLS} streamed model calls, {CONCURRENCY} at once, model latency {LATENCY_S * 1000:.0f} ms:")
    print(f"  {'client':<24}{'CPU per call (ms)':>22}{'calls per second':>22}")
    for name, rounds in results.items():
        cpu = " / ".join(f"{ms:.2f}" for ms, _ in rounds)
        rate = " / ".join(f"{r:.0f}" for _, r in rounds)
        print(f"  {name:<24}{cpu:>22}{rate:>22}")


if __name__ == "__main__":
    main()
