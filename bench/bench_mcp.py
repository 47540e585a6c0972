"""MCP client benchmark: what one tool call costs through Trellis's client (SSRF-guarded connect, a fresh
streamable-HTTP session per call: initialize + call + close) against the in-repo FastMCP server on loopback,
next to the SDK client with a plain httpx client and one session reused for every call.

Run: .venv/bin/python bench/bench_mcp.py (BENCH_N tunes it). Prints its figures; asserts nothing
(CONVENTIONS 17).
"""

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
N = int(os.environ.get("BENCH_N", "100"))


def report(label: str, samples: list[float]) -> None:
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    print(f"{label:<62} p50 {statistics.median(samples):7.2f} ms   p99 {p99:7.2f} ms   (n={len(samples)})", flush=True)


def timed(label: str, fn, n: int = N) -> None:
    fn()  # warm up
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    report(label, samples)


def main() -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "trellis.settings",
            "DATABASE_URL": "sqlite:///:memory:",
            "REDIS_URL": "",
            "TRELLIS_HTTP_ALLOWLIST": "127.0.0.1/32",
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    import anyio
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    from runs.testing.mcp_server import McpTestServer
    from trellis import mcp_client

    server = McpTestServer()
    try:
        timed(
            "trellis client: call_tool add (new session per call)",
            lambda: mcp_client.call_tool(url=server.url, headers={}, tool="add", arguments={"a": 1, "b": 2}),
        )
        timed(
            "trellis client: list_tools (new session per call)",
            lambda: mcp_client.list_tools(url=server.url, headers={}),
        )

        async def reused() -> list[float]:
            samples = []
            async with streamable_http_client(server.url) as (read, write, _):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    await session.call_tool("add", {"a": 1, "b": 2})
                    for _ in range(N):
                        started = time.perf_counter()
                        await session.call_tool("add", {"a": 1, "b": 2})
                        samples.append((time.perf_counter() - started) * 1000)
            return samples

        report("bare SDK client: call_tool add (one session reused)", anyio.run(reused))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
