"""Time to first token through Trellis: `/v1/chat/completions` with `stream: true` on a published
start → agent → end, against calling the model stub directly, in default mode (one uvicorn process, SQLite,
the in-process executor). The stub (runs/testing/slow_model.py) streams its first token after a fixed latency.

Prints p50 / p95 of time to first token for both, sequential requests through the `openai` SDK, and what
Trellis adds (the issue's figure: p50 added ≤ 10 ms).

Run: .venv/bin/python bench/bench_ttft.py  (BENCH_TTFT_N requests each, default 60; BENCH_TTFT_LATENCY_S, default
0.2). Asserts nothing (CONVENTIONS 17).
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

from bench_llm_concurrency import GRAPH, base_env, publish  # noqa: E402

from runs.testing import slow_model  # noqa: E402
from runs.testing.live_server import free_port, start_uvicorn, stop_processes, wait_until_answers  # noqa: E402

N = int(os.environ.get("BENCH_TTFT_N", "60"))
LATENCY_S = float(os.environ.get("BENCH_TTFT_LATENCY_S", "0.2"))
WARMUP = 5


async def first_tokens(base_url: str, api_key: str, model: str, n: int) -> list[float]:
    """Milliseconds from sending each request to its first streamed content, one request at a time."""
    from openai import AsyncOpenAI

    times: list[float] = []
    async with AsyncOpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=60) as client:
        for i in range(n + WARMUP):
            started = time.perf_counter()
            stream = await client.chat.completions.create(
                model=model, stream=True, messages=[{"role": "user", "content": f"question {i}"}]
            )
            first = None
            async for chunk in stream:
                if first is None and chunk.choices and chunk.choices[0].delta.content:
                    first = (time.perf_counter() - started) * 1000
            if first is None:
                raise RuntimeError(f"{base_url}: a stream without content")
            if i >= WARMUP:
                times.append(first)
    return times


def summary(times: list[float]) -> tuple[float, float]:
    return statistics.median(times), statistics.quantiles(times, n=20)[18]


def main() -> None:
    stub, model_port = slow_model.start_process(LATENCY_S)
    web = None
    try:
        db_path = os.path.join(tempfile.mkdtemp(prefix="trellis-bench-ttft-"), "bench.sqlite3")
        env = base_env(db_path, model_port)
        token = publish(env, {"Ask": GRAPH})[1]
        port = free_port()
        web = start_uvicorn(port, args=["--log-level", "warning", "--no-access-log"], cwd=ROOT, env=env)
        wait_until_answers(f"http://127.0.0.1:{port}/healthz", proc=web)
        stub_url = f"http://127.0.0.1:{model_port}/v1"
        direct = asyncio.run(first_tokens(stub_url, "bench-key", "gpt-4.1-mini", N))
        trellis = asyncio.run(first_tokens(f"http://127.0.0.1:{port}/v1", token, "workflow:Ask", N))
        direct_after = asyncio.run(first_tokens(stub_url, "bench-key", "gpt-4.1-mini", N))
    finally:
        stop_processes(*(p for p in (web, stub) if p is not None))
    direct_all = direct + direct_after
    d50, d95 = summary(direct_all)
    t50, t95 = summary(trellis)
    print(f"\nTime to first token, {N} sequential streamed requests each, model's first token after {LATENCY_S:g} s:")
    print(f"  {'':<44}{'p50 (ms)':>10}{'p95 (ms)':>10}")
    print(f"  {'the model stub, called directly':<44}{d50:>10.1f}{d95:>10.1f}")
    print(f"  {'/v1/chat/completions → start → agent → end':<44}{t50:>10.1f}{t95:>10.1f}")
    print(f"  {'added by Trellis':<44}{t50 - d50:>10.1f}{t95 - d95:>10.1f}")


if __name__ == "__main__":
    main()
