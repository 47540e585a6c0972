"""External executors benchmark: what our layers add on top of the wire, against local servers.

1. trellis.net.guarded_request (resolve + SSRF check + pinned connect + capped read) vs plain httpx.
2. http_request executor, one GET per step.
3. agent executor, streamed text reply, Responses and Chat Completions, vs a bare openai SDK call.
4. agent executor with one HTTP tool call (two model turns + one guarded request).

All servers are the in-repo local ones on loopback (allowlisted), so figures are our overhead plus
loopback HTTP, not model latency. Run: .venv/bin/python bench/bench_executors.py (BENCH_N tunes it).
Prints its figures; asserts nothing about them (CONVENTIONS 17).
"""

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
N = int(os.environ.get("BENCH_N", "200"))


def timed(label: str, fn, n: int = N) -> None:
    fn()  # warm up
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    print(f"{label:<58} p50 {statistics.median(samples):7.2f} ms   p99 {p99:7.2f} ms   (n={n})", flush=True)


def main() -> None:
    from runs.testing.echo_server import EchoServer
    from runs.testing.model_server import ModelServer

    echo = EchoServer()
    model = ModelServer().start()
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "trellis.settings",
            "DATABASE_URL": "sqlite:///:memory:",
            "REDIS_URL": "",
            "OPENAI_API_KEY": "bench-key",
            "OPENAI_BASE_URL": model.base_url,
            "TRELLIS_HTTP_ALLOWLIST": "127.0.0.1/32",
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    import httpx
    import openai

    from runs.executors.agent import AgentExecutor
    from runs.executors.http_request import HttpRequestExecutor
    from runs.testing.context import make_node_context
    from trellis import net

    url = echo.base_url + "/echo"
    with httpx.Client(trust_env=False) as plain:
        timed("plain httpx GET (kept-alive client, baseline)", lambda: plain.get(url))
    timed(
        "trellis.net.guarded_request GET (new guarded client each)",
        lambda: net.guarded_request("GET", url, timeout_s=10, max_bytes=1_000_000),
    )

    http_executor = HttpRequestExecutor()
    timed(
        "http_request executor GET",
        lambda: http_executor.run(make_node_context("http_request", {"method": "GET", "url": url})[0]),
    )

    sdk = openai.OpenAI(api_key="k", base_url=model.base_url, max_retries=0)

    def bare_stream():
        for _ in sdk.responses.create(model="gpt-4.1-mini", input="hello there", stream=True):
            pass

    n_llm = max(20, N // 2)
    timed("bare openai SDK responses stream (baseline)", bare_stream, n_llm)
    agent = AgentExecutor()
    timed(
        "agent executor, Responses stream",
        lambda: agent.run(make_node_context("agent", {"model": "gpt-4.1-mini", "instructions": "hello there"})[0]),
        n_llm,
    )

    from runs.llm import providers

    original = providers.resolve_provider

    def chat_provider(ctx, name=None):
        p = original(ctx, name)
        return providers.Provider(p.name, p.base_url, providers.CHAT_COMPLETIONS, p.api_key, guard=False)

    import runs.executors.agent as agent_module

    agent_module.resolve_provider = chat_provider
    timed(
        "agent executor, Chat Completions stream",
        lambda: agent.run(make_node_context("agent", {"model": "gpt-4.1-mini", "instructions": "hello there"})[0]),
        n_llm,
    )
    agent_module.resolve_provider = original

    tool_config = {
        "model": "gpt-4.1-mini",
        "instructions": "use lookup",
        "tools": [{"type": "http", "name": "lookup", "method": "GET", "url": url}],
    }
    timed(
        "agent executor, one HTTP tool call (2 turns + 1 request)",
        lambda: agent.run(make_node_context("agent", tool_config)[0]),
        n_llm,
    )
    echo.stop()
    model.stop()


if __name__ == "__main__":
    main()
