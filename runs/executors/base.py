"""The plugin family for node types: one NodeExecutor subclass per type, registered by type name.

The engine builds a NodeContext for each step and calls `executor.run(ctx)`. An executor returns a
NodeResult or raises NodeError (retryable or not). Executors never touch models, Celery or
Channels: everything they need comes through the context, so they are tested in isolation.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from runs.engine import io


class NodeError(Exception):
    """A node failed. `retryable` errors are retried per the node's `retry` policy; others are final."""

    def __init__(self, message: str, *, retryable: bool = False, code: str = "node_error", details: Any = None):
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.code = code
        self.details = details


class RunCancelled(Exception):
    """Raised inside an executor when the run was cancelled while the node was in flight."""


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    # None once a call had no known price: the cost is unknown ("price unknown"), never a made-up $0.
    cost_usd: float | None = 0.0
    model: str | None = None
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0

    def add_cost(self, cost: float | None) -> None:
        if cost is None or self.cost_usd is None:
            self.cost_usd = None
        else:
            self.cost_usd += cost

    def as_dict(self) -> dict:
        data = {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": None if self.cost_usd is None else round(self.cost_usd, 8),
            "model": self.model,
        }
        if self.cost_usd is None:
            data["price_unknown"] = True
        if self.cached_input_tokens:
            data["cached_input_tokens"] = self.cached_input_tokens
        if self.reasoning_tokens:
            data["reasoning_tokens"] = self.reasoning_tokens
        return data


@dataclass
class NodeResult:
    output: Any = None
    # Which output port fires. None means the node's default port ("out"); branching nodes name one.
    port: str | None = None
    usage: Usage | None = None
    # Workflow state assignments made by this node (set_state); applied in the same transaction.
    state_updates: dict[str, Any] = field(default_factory=dict)
    # A node may ask the engine to pause the run (user_approval): `timeout_s` bounds the wait; with
    # `on_timeout` ({port, output}) the wait is a timer that ends the step so, holding no worker meanwhile.
    wait: dict | None = None


async def _run_here(fn: Callable, *args: Any, **kwargs: Any) -> Any:
    return fn(*args, **kwargs)


@dataclass
class NodeContext:
    run_id: str
    workspace_id: str
    node: dict  # the graph node: id, type, name, config
    scope: dict  # the CEL scope: workflow, input, nodes, state, run, trigger, loop
    attempt: int = 1
    iteration: int = 0
    # Derived from run, node, iteration: the same on every retry and after a worker restart.
    idempotency_key: str = ""
    deadline: float | None = None  # time.monotonic() value by which the node must finish
    cancel_event: threading.Event = field(default_factory=threading.Event)
    # Supplied by the engine:
    evaluate: Callable[[str], Any] = lambda expr: None  # a CEL expression against `scope`
    render: Callable[[str], str] = lambda template: template  # a `{{ … }}` template against `scope`
    resolve_secret: Callable[[str], str] = lambda name: ""  # value of a workspace secret; redacted later
    # Asynchronous executors await `ctx.blocking(fn, *args)` for database work (providers, secrets, budgets): the
    # engine runs it on the run's own thread. Outside the engine it simply runs `fn` here.
    blocking: Callable[..., Awaitable[Any]] = _run_here
    redact: Callable[[str], str] = lambda text: text  # `text` with every secret resolved so far masked
    emit_delta: Callable[[str], None] = lambda text: None  # streamed text (coalesced by the engine)
    services: dict = field(default_factory=dict)  # optional hooks (model providers, sub-workflows)
    prepared: Any = None  # what the executor's `prepare` returned for this step

    @property
    def config(self) -> dict:
        return self.node.get("config") or {}

    @property
    def node_id(self) -> str:
        return self.node["id"]

    def excerpt(self, text: str, limit: int) -> str:
        """The first `limit` characters of `text`, secrets masked first: masking a text already cut would
        miss a secret cut in two, and its first characters would leak."""
        return self.redact(text)[:limit]

    def check_cancelled(self) -> None:
        if self.cancel_event.is_set():
            raise RunCancelled()

    def remaining_s(self, default: float) -> float:
        if self.deadline is None:
            return default
        return max(0.001, min(default, self.deadline - time.monotonic()))


class NodeExecutor:
    """A node type's behaviour. Executors that wait on the network implement `run_async` instead of `run`
    (`is_async`): the engine runs them as tasks on the process's I/O loop (runs/engine/io.py), so a call in
    flight holds no thread. They must not touch the database there."""

    type: ClassVar[str]
    is_async: ClassVar[bool] = False

    def run(self, ctx: NodeContext) -> NodeResult:
        if self.is_async:  # outside the engine (tests, tools): wait here, serving the node's database work
            return _run_outside_engine(self, ctx)
        raise NotImplementedError

    def prepare(self, ctx: NodeContext) -> Any:
        """The database reads an asynchronous executor needs before its first call (a provider and its key):
        the engine calls this on the run's thread as the step starts, and `run_async` finds the result in
        `ctx.prepared`. Done there, they cost no trip back from the I/O loop (`ctx.blocking`), a wait before
        the model call that a user sees in the time to first token. An error raised here fails the step as
        one raised by `run_async` would."""
        return None

    async def run_async(self, ctx: NodeContext) -> NodeResult:
        raise NotImplementedError


def _run_outside_engine(executor: NodeExecutor, ctx: NodeContext) -> NodeResult:
    ctx.prepared = executor.prepare(ctx)
    return wait_on_io_loop(executor.run_async, ctx)


def wait_on_io_loop(make: Callable[[NodeContext], Awaitable[Any]], ctx: NodeContext) -> Any:
    """Run the coroutine `make(ctx)` on the process's I/O loop and wait for it on this thread, until it is done
    or `ctx.cancel_event` is set (RunCancelled). Unless the engine serves them, its `ctx.blocking` calls run
    here, on this thread (whose database connection the caller's data is on)."""

    calls: queue.SimpleQueue = queue.SimpleQueue()
    if ctx.blocking is _run_here:

        async def blocking(fn: Callable, *args: Any, **kwargs: Any) -> Any:
            future: concurrent.futures.Future = concurrent.futures.Future()
            calls.put((lambda: fn(*args, **kwargs), future))
            return await asyncio.wrap_future(future)

        ctx.blocking = blocking
    task = io.submit(make(ctx))
    while not task.done():
        if ctx.cancel_event.is_set():
            task.cancel()
            raise RunCancelled()
        try:
            call, future = calls.get(timeout=0.02)
        except queue.Empty:
            continue
        if future.set_running_or_notify_cancel():
            try:
                future.set_result(call())
            except BaseException as exc:
                future.set_exception(exc)
    if task.cancelled():
        raise RunCancelled()
    return task.result()


EXECUTORS: dict[str, NodeExecutor] = {}


def register(cls: type[NodeExecutor]) -> type[NodeExecutor]:
    if cls.type in EXECUTORS:
        raise RuntimeError(f"two executors registered for node type {cls.type!r}")
    EXECUTORS[cls.type] = cls()
    return cls
