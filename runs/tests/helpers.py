"""Graph builders and test-only node types (I/O stand-ins that sleep, fail or stream)."""

import logging
import os
import signal
import threading
import time

from runs.executors.base import EXECUTORS, NodeContext, NodeError, NodeExecutor, NodeResult, Usage, register

START_SCHEMA = {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}


def node(id: str, type: str, **config) -> dict:  # noqa: A002
    return {"id": id, "type": type, "name": id.title(), "position": {"x": 0, "y": 0}, "config": config}


def edge(source: str, target: str, port: str | None = None) -> dict:
    e = {"id": f"{source}-{port or 'out'}-{target}", "source": source, "target": target}
    if port:
        e["source_port"] = port
    return e


def graph(nodes: list[dict], edges: list[dict]) -> dict:
    return {"format": "trellis.graph/1", "nodes": nodes, "edges": edges}


def line(*nodes: dict) -> dict:
    """Nodes connected one after the other on their default port."""
    return graph(list(nodes), [edge(a["id"], b["id"]) for a, b in zip(nodes, nodes[1:], strict=False)])


def start(schema: dict | None = None, state: dict | None = None) -> dict:
    config = {"input_schema": schema or {"type": "object"}}
    if state is not None:
        config["state"] = state
    return node("start", "start", **config)


def shout_graph() -> dict:
    """start → shout (the message upper-cased) → end: a workflow that runs in a few milliseconds."""
    return line(
        start(START_SCHEMA),
        node("shout", "transform", output={"text": "workflow.input.message.upperAscii()"}),
        node("end", "end", output={"text": "nodes.shout.output.text"}),
    )


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
