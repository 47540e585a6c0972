"""The plugin family for node types: one NodeExecutor subclass per type, registered by type name.

The engine builds a NodeContext for each step and calls `executor.run(ctx)`. An executor returns a
NodeResult or raises NodeError (retryable or not). Executors never touch models, Celery or
Channels: everything they need comes through the context, so they are tested in isolation.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar


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
    cost_usd: float = 0.0
    model: str | None = None

    def as_dict(self) -> dict:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": round(self.cost_usd, 8),
            "model": self.model,
        }


@dataclass
class NodeResult:
    output: Any = None
    # Which output port fires. None means the node's default port ("out"); branching nodes name one.
    port: str | None = None
    usage: Usage | None = None
    # Workflow state assignments made by this node (set_state); applied in the same transaction.
    state_updates: dict[str, Any] = field(default_factory=dict)
    # A node may ask the engine to pause the run (user_approval).
    wait: dict | None = None


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
    redact: Callable[[str], str] = lambda text: text  # `text` with every secret resolved so far masked
    emit_delta: Callable[[str], None] = lambda text: None  # streamed text (coalesced by the engine)
    services: dict = field(default_factory=dict)  # optional hooks (model providers, sub-workflows)

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
        import time

        if self.deadline is None:
            return default
        return max(0.001, min(default, self.deadline - time.monotonic()))


class NodeExecutor:
    type: ClassVar[str]

    def run(self, ctx: NodeContext) -> NodeResult:
        raise NotImplementedError


EXECUTORS: dict[str, NodeExecutor] = {}


def register(cls: type[NodeExecutor]) -> type[NodeExecutor]:
    if cls.type in EXECUTORS:
        raise RuntimeError(f"two executors registered for node type {cls.type!r}")
    EXECUTORS[cls.type] = cls()
    return cls
