"""Test-only node types (I/O stand-ins that sleep, fail or stream), and the graph builders of
runs/testing/graphs.py under the name the tests import them by."""

import asyncio
import logging
import os
import signal
import threading
import time

from runs.executors.base import EXECUTORS, NodeContext, NodeError, NodeExecutor, NodeResult, Usage, register
from runs.testing.graphs import START_SCHEMA, edge, graph, line, node, shout_graph, start  # noqa: F401


def wait_for(predicate, timeout_s: float = 20, what: str = "the condition"):
    """Polls `predicate` until it returns something truthy, and returns that; AssertionError at the timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


class WorkerDied(BaseException):
    """Stands in for SIGKILL in-process: not an Exception, so nothing in the engine catches it, and the run's
    lease stays taken as a dead worker leaves it."""


# Calls per (node id) — tests read them to prove a step did or did not run again.
CALLS: dict[str, int] = {}
CUT_OFF: dict[str, int] = {}  # asynchronous calls cancelled where they waited, per node id
_lock = threading.Lock()


def _count(ctx: NodeContext) -> int:
    with _lock:
        CALLS[ctx.node_id] = CALLS.get(ctx.node_id, 0) + 1
        return CALLS[ctx.node_id]


if "test_sleep" not in EXECUTORS:

    @register
    class SleepExecutor(NodeExecutor):
        """Waits `seconds` like an HTTP call would, aborting when the run is cancelled."""

        type = "test_sleep"

        def run(self, ctx: NodeContext) -> NodeResult:
            _count(ctx)
            end = time.monotonic() + float(ctx.config.get("seconds", 0))
            while time.monotonic() < end:
                ctx.check_cancelled()
                ctx.cancel_event.wait(min(0.02, max(0.0, end - time.monotonic())))
            return NodeResult(output={"slept": ctx.config.get("seconds", 0), "input": ctx.scope.get("input")})

    @register
    class FlakyExecutor(NodeExecutor):
        """Fails (retryably unless `permanent`) for the first `failures` calls, then succeeds."""

        type = "test_flaky"

        def run(self, ctx: NodeContext) -> NodeResult:
            n = _count(ctx)
            if n <= int(ctx.config.get("failures", 0)):
                raise NodeError(
                    f"failure {n}", retryable=not ctx.config.get("permanent"), code=ctx.config.get("code", "flaky")
                )
            return NodeResult(output={"calls": n})

    @register
    class StreamExecutor(NodeExecutor):
        """Streams `chunks` deltas `interval` s apart, uses a secret, reports usage."""

        type = "test_stream"

        def run(self, ctx: NodeContext) -> NodeResult:
            _count(ctx)
            secret = ctx.resolve_secret(ctx.config["secret"]) if ctx.config.get("secret") else ""
            if secret:
                logging.getLogger("trellis.test").warning("calling the API with key %s", secret)
            text = []
            for i in range(int(ctx.config.get("chunks", 5))):
                ctx.check_cancelled()
                piece = f"tok{i} "
                text.append(piece)
                ctx.emit_delta(piece)
                time.sleep(float(ctx.config.get("interval", 0.0)))
            return NodeResult(
                output={"text": "".join(text), "echo": f"key={secret}"},
                usage=Usage(input_tokens=10, output_tokens=5, cost_usd=0.001, model="test"),
            )

    @register
    class AsyncSleepExecutor(NodeExecutor):
        """Waits `seconds` on the I/O loop, as a model call does; a call cut off is counted in CUT_OFF."""

        type = "test_async_sleep"
        is_async = True

        async def run_async(self, ctx: NodeContext) -> NodeResult:
            _count(ctx)
            try:
                await asyncio.sleep(float(ctx.config.get("seconds", 0)))
            except asyncio.CancelledError:
                with _lock:
                    CUT_OFF[ctx.node_id] = CUT_OFF.get(ctx.node_id, 0) + 1
                raise
            return NodeResult(output={"slept": ctx.config.get("seconds", 0)})

    @register
    class BigExecutor(NodeExecutor):
        type = "test_big"

        def run(self, ctx: NodeContext) -> NodeResult:
            return NodeResult(output={"blob": "x" * int(ctx.config.get("bytes", 10))})

    @register
    class DieExecutor(NodeExecutor):
        """Kills its worker (in-process: raises WorkerDied) on its first `times` calls, then succeeds. In a Celery
        worker started by the tests (TRELLIS_TEST_QUEUE set) with `sigkill`, it SIGKILLs its own process."""

        type = "test_die"

        def run(self, ctx: NodeContext) -> NodeResult:
            n = _count(ctx)
            if n <= int(ctx.config.get("times", 1_000_000)):
                if ctx.config.get("sigkill") and os.environ.get("TRELLIS_TEST_QUEUE"):
                    os.kill(os.getpid(), signal.SIGKILL)
                raise WorkerDied()
            return NodeResult(output={"calls": n})
