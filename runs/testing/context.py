"""Build a NodeContext by hand (no engine): real CEL evaluation and templates, recorded deltas and secrets."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from builder.expressions import evaluate, render_template
from runs.executors.base import NodeContext, NodeError


@dataclass
class Recorder:
    deltas: list[str] = field(default_factory=list)
    secrets_used: list[str] = field(default_factory=list)


def make_node_context(
    node_type: str,
    config: dict,
    *,
    scope: dict | None = None,
    secrets: dict[str, str] | None = None,
    workspace_id: str = "",
    services: dict | None = None,
    timeout_s: float | None = None,
    idempotency_key: str = "run-1:node-1:0",
    cancel_event: threading.Event | None = None,
    on_delta: Any = None,
) -> tuple[NodeContext, Recorder]:
    recorder = Recorder()
    scope = scope if scope is not None else {"workflow": {"input": {}}, "input": {}, "nodes": {}, "state": {}}
    secrets = secrets or {}

    def resolve_secret(name: str) -> str:
        if name not in secrets:
            raise NodeError(f"No secret named {name!r} in this workspace.")
        recorder.secrets_used.append(name)
        return secrets[name]

    def emit_delta(text: str) -> None:
        recorder.deltas.append(text)
        if on_delta is not None:
            on_delta(text)

    ctx = NodeContext(
        run_id="run-1",
        workspace_id=workspace_id,
        node={"id": "node_1", "type": node_type, "name": node_type, "config": config},
        scope=scope,
        idempotency_key=idempotency_key,
        deadline=None if timeout_s is None else time.monotonic() + timeout_s,
        cancel_event=cancel_event or threading.Event(),
        evaluate=lambda expr: evaluate(expr, scope),
        render=lambda template: render_template(template, scope),
        resolve_secret=resolve_secret,
        emit_delta=emit_delta,
        services=services or {},
    )
    return ctx, recorder
