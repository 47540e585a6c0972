"""Executing one step: the expression scope a node sees, starting it (inline for pure built-in types,
in the session's thread pool for nodes that do I/O), and recording what it returned, failed with or
waits for. `StepExecution` is a mixin of the engine session (runs/engine/session.py), which
initialises the attributes it uses."""

from __future__ import annotations

import datetime as dt
import heapq
import json
import logging
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from builder.catalog import NODE_TYPES
from builder.expressions import ExpressionError, ExpressionLimitError, evaluate, render_template
from runs.engine import io
from runs.engine.activation import now
from runs.engine.delta import Delta
from runs.engine.limits import RunFailure
from runs.engine.store import StepRecord
from runs.executors.base import EXECUTORS, NodeContext, NodeError, NodeResult, RunCancelled

log = logging.getLogger("trellis.engine")

# Pure, fast node types (their catalog entry says `inline`): executed on the engine thread, never retried for time.
INLINE_TYPES = frozenset(t for t, node_type in NODE_TYPES.items() if node_type.inline)


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


@dataclass
class InFlight:
    record: StepRecord
    ctx: NodeContext
    future: Future
    started: float
    deadline: float | None
    delta: Delta


class StepExecution:
    """Mixin for the engine session: runs steps and records their outcome."""

    def _scope(self, nid: str, iteration: int, copy: bool) -> dict:
        src = self.activated_by.get(nid)
        scope = {
            "workflow": {"input": self.snap.input},
            "input": self.outputs.get(src) if src else self.snap.input,
            "nodes": dict(self.nodes_scope) if copy else self.nodes_scope,
            "state": dict(self.state) if copy else self.state,
            "run": {"id": self.run_id, "started_at": iso(self.snap.started_at or self.snap.created_at)},
            "trigger": self.snap.trigger or {},
        }
        w = nid if nid in self.loop_index else self.g.innermost_loop.get(nid)
        if w is not None:
            scope["loop"] = {"index": iteration if nid == w else (self.loop_index.get(w) or 0)}
        return scope

    def _start(self, nid: str) -> None:
        node = self.g.nodes[nid]
        ntype = node.get("type", "")
        if self.executed >= self.limits.max_steps:
            raise RunFailure(
                "failed",
                "step_limit",
                f"The run reached the limit of {self.limits.max_steps} steps (RUN_MAX_STEPS).",
                nid,
            )
        iteration = self._iteration_of(nid)
        if ntype == "while" and iteration >= self.limits.max_loop_iterations:
            raise RunFailure(
                "failed",
                "loop_limit",
                f"The loop '{nid}' reached the limit of {self.limits.max_loop_iterations} iterations "
                "(RUN_MAX_LOOP_ITERATIONS).",
                nid,
            )
        key = (nid, iteration)
        attempt = self.attempts.get(key, 0) + 1
        self.attempts[key] = attempt
        self.executed += 1
        inline = ntype in INLINE_TYPES
        scope = self._scope(nid, iteration, copy=not inline)
        rec = StepRecord(
            id=str(uuid.uuid4()),
            node_id=nid,
            node_type=ntype,
            attempt=attempt,
            iteration=iteration,
            status="running",
            input=self.redactor.value(scope["input"]),
            started_at=now(),
        )
        step_cancel = threading.Event()
        delta = Delta(self, nid, rec.id)
        timeout_s = self.g.config(nid).get("timeout_s") if ntype != "user_approval" else None
        step_deadline = self.deadline
        if timeout_s:
            step_deadline = min(step_deadline, time.monotonic() + float(timeout_s))
        ctx = NodeContext(
            run_id=self.run_id,
            workspace_id=self.snap.workspace_id,
            node=node,
            scope=scope,
            attempt=attempt,
            iteration=iteration,
            idempotency_key=f"{self.run_id}:{nid}:{iteration}",
            deadline=step_deadline,
            cancel_event=step_cancel,
            evaluate=lambda source: _evaluate(source, scope, nid),
            render=lambda template: _render(template, scope, nid),
            resolve_secret=self._resolve_secret,
            blocking=self.blocking,
            redact=self.redactor.text,
            emit_delta=delta.emit,
            services={
                "limits": self.limits,
                "run_input": self.snap.input,
                "redact": self.redactor.add,
                "resume": self.resumes.get(key),
            },
        )
        self.running_nodes.add(nid)
        self._event(
            "step.started", nid, {"step_id": rec.id, "node_type": ntype, "attempt": attempt, "iteration": iteration}
        )
        executor = EXECUTORS.get(ntype)
        started = time.monotonic()
        if executor is None:
            outcome = ("error", NodeError(f"No executor for node type '{ntype}'.", code="unsupported_node"))
            self._complete(rec, ctx, outcome, started, delta)
        elif inline:
            self._complete(rec, ctx, _call(executor, ctx, None), started, delta)
        elif executor.is_async and (failed := _prepare(executor, ctx)) is not None:
            self._complete(rec, ctx, failed, started, delta)
        elif executor.is_async:
            # A node that waits on the network starts before its running row is committed, so its call (a model's
            # first token) does not wait for the write. The run's lease is held (just taken, or a claim with half of
            # it left) and the commit still checks it: a lost lease or a cancel it finds cuts the call off at once
            # (`_close`, `_flush`); at most a call that another worker makes again was started.
            fut = io.submit(_call_async(executor, ctx))
            self.inflight[fut] = InFlight(rec, ctx, fut, started, step_deadline, delta)
            self._queue_step(rec)
            self._flush()  # the running row is visible while the node works
        else:
            # A node on a thread may take the process down with it (memory, a native crash): its running row is
            # committed first, so that recovery knows which node was in flight (worker_lost, crashed_repeatedly).
            self._queue_step(rec)
            self._flush()
            fut = _node_pool(self.limits.pool_size).submit(
                _call, executor, ctx, getattr(self.store, "thread_cleanup", None)
            )
            self.inflight[fut] = InFlight(rec, ctx, fut, started, step_deadline, delta)

    def _complete(self, rec: StepRecord, ctx: NodeContext, outcome, started: float, delta: Delta) -> None:
        delta.flush()
        kind, value = outcome
        rec.finished_at = now()
        rec.duration_ms = int((time.monotonic() - started) * 1000)
        nid = rec.node_id
        self.running_nodes.discard(nid)
        if kind == "cancelled":
            if self.cancel_event.is_set():
                rec.status = "cancelled"
                self._queue_step(rec)
                self._event("step.finished", nid, self._finished_data(rec))
                self._finish("cancelled", error={"code": "cancelled", "message": "The run was cancelled."})
                return
            kind, value = "error", NodeError("The node was interrupted.", code="interrupted", retryable=True)
        if kind == "ok":
            result: NodeResult = value
            if result.wait is not None:
                self._step_waits(rec, result)
                return
            rec.output = result.output
            rec.port = result.port
            rec.state_updates = dict(result.state_updates or {})
            if result.usage is not None:
                rec.usage = self.redactor.value(result.usage.as_dict())  # may hold a tool-call trace
                self._add_usage(rec.usage)
            size = _size(rec.output)
            if size > self.limits.max_payload_bytes:
                rec.status, rec.output = "failed", None
                rec.error = {
                    "code": "payload_too_large",
                    "message": f"The step output is {size} bytes, over the limit of "
                    f"{self.limits.max_payload_bytes} bytes (STEP_MAX_PAYLOAD_BYTES).",
                }
                self._record_finished(rec)
                raise RunFailure("failed", "payload_too_large", rec.error["message"], nid)
            rec.status = "succeeded"
            self._record_finished(rec)
            if rec.node_type == "end":
                self._finish("succeeded", output=rec.output)
                return
            self._apply(rec)
            return
        err: NodeError = value
        rec.status = "failed"
        rec.error = {"code": err.code, "message": err.message}
        if err.details is not None:
            rec.error["details"] = err.details
        retry = self.g.config(nid).get("retry") or {}
        max_attempts = int(retry.get("max_attempts") or 1)
        if err.retryable and rec.attempt < max_attempts:
            rec.error["will_retry"] = True
            self._record_finished(rec)
            backoff = float(retry.get("backoff_s") or 0) * (2 ** (rec.attempt - 1))
            self.running_nodes.add(nid)
            heapq.heappush(self.delayed, (time.monotonic() + backoff, self.counter, nid))
            return
        self._record_finished(rec)
        on_error = self.g.config(nid).get("on_error", "fail")
        if on_error in ("continue", "route"):
            self._apply(rec)
            return
        raise RunFailure("failed", err.code, err.message, nid)

    def _step_waits(self, rec: StepRecord, result: NodeResult) -> None:
        wait_info = dict(result.wait or {})
        timeout_s = wait_info.pop("timeout_s", None)
        if timeout_s:
            wait_info["timeout_at"] = iso(now() + dt.timedelta(seconds=float(timeout_s)))
        rec.status = "waiting"
        rec.wait = self.redactor.value(wait_info)
        rec.output = result.output
        rec.finished_at = None
        self.waiting[rec.node_id] = rec
        self._queue_step(rec)
        self._event("step.finished", rec.node_id, self._finished_data(rec))

    def _record_finished(self, rec: StepRecord) -> None:
        self.counter += 1
        rec.order = self.counter
        rec.input = self.redactor.value(rec.input)
        rec.output = self.redactor.value(rec.output)
        rec.error = self.redactor.value(rec.error)
        self._queue_step(rec)
        etype = "step.failed" if rec.status == "failed" else "step.finished"
        self._event(etype, rec.node_id, self._finished_data(rec))

    def _finished_data(self, rec: StepRecord) -> dict:
        data = {
            "step_id": rec.id,
            "node_type": rec.node_type,
            "status": rec.status,
            "attempt": rec.attempt,
            "iteration": rec.iteration,
            "port": rec.port,
            "output": rec.output,
            "duration_ms": rec.duration_ms,
            "usage": rec.usage,
        }
        if rec.error is not None:
            data["error"] = rec.error
        if rec.wait is not None:
            data["wait"] = rec.wait
        return data

    def _add_usage(self, usage: dict) -> None:
        total = self.usage_total
        total["input_tokens"] = int(total.get("input_tokens") or 0) + int(usage.get("input_tokens") or 0)
        total["output_tokens"] = int(total.get("output_tokens") or 0) + int(usage.get("output_tokens") or 0)
        total["cost_usd"] = round(float(total.get("cost_usd") or 0.0) + float(usage.get("cost_usd") or 0.0), 8)
        if usage.get("price_unknown"):
            # The total is a lower bound: some calls had no known price.
            total["price_unknown"] = True
        self.pending_run["usage"] = dict(total)

    def _resolve_secret(self, name: str) -> str:
        value = self.store.resolve_secret(self.snap.workspace_id, name)
        self.redactor.add(value)
        return value


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _node_pool(size: int) -> ThreadPoolExecutor:
    """The process's threads for node executors that are not asynchronous yet (shared by every run)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max(size, 4) * 4, thread_name_prefix="trellis-node")
        return _pool


def _prepare(executor, ctx: NodeContext):
    """Run the executor's `prepare` into `ctx.prepared`; None, or the failed outcome when it raised."""
    try:
        ctx.prepared = executor.prepare(ctx)
    except Exception as exc:
        return _outcome_of(exc, ctx.node_id)
    return None


async def _call_async(executor, ctx: NodeContext):
    """`_call` for an asynchronous executor, on the I/O loop. A cancelled task (run cancelled, node timed out)
    ends the coroutine where it awaits: its HTTP call is closed."""
    try:
        return ("ok", await executor.run_async(ctx))
    except Exception as exc:
        return _outcome_of(exc, ctx.node_id)


def _call(executor, ctx: NodeContext, cleanup):
    try:
        return ("ok", executor.run(ctx))
    except Exception as exc:
        return _outcome_of(exc, ctx.node_id)
    finally:
        if cleanup is not None:
            cleanup()


def _outcome_of(exc: Exception, node_id: str) -> tuple[str, NodeError | None]:
    """What an executor's exception makes of its step. Called while the exception is being handled."""
    if isinstance(exc, NodeError):
        return ("error", exc)
    if isinstance(exc, RunCancelled):
        return ("cancelled", None)
    if isinstance(exc, ExpressionLimitError):
        return ("error", NodeError(exc.message, code="expression_limit", details={"limit": exc.limit}))
    if isinstance(exc, ExpressionError):
        return ("error", NodeError(exc.message, code="expression_error"))
    # An executor bug must not take the run down with it.
    log.exception("node %s raised", node_id)
    return ("error", NodeError(f"{type(exc).__name__}: {exc}", code="internal_error"))


def _evaluate(source: str, scope: dict, node_id: str) -> Any:
    try:
        return evaluate(source, scope)
    except ExpressionLimitError as exc:
        raise _limit_error(exc, f"Expression '{_clip(source)}'", source, node_id) from None
    except ExpressionError as exc:
        raise NodeError(f"Expression '{source}': {exc.message}", code="expression_error") from None


def _render(template: str, scope: dict, node_id: str) -> str:
    try:
        return render_template(template, scope)
    except ExpressionLimitError as exc:
        raise _limit_error(exc, "Template", template, node_id) from None
    except ExpressionError as exc:
        raise NodeError(f"Template: {exc.message}", code="expression_error") from None


def _limit_error(exc: ExpressionLimitError, what: str, source: str, node_id: str) -> NodeError:
    """Which limit, in which expression, on which node: the step fails for good (retrying cannot help)."""
    return NodeError(
        f"{what} on node '{node_id}': {exc.message}",
        code="expression_limit",
        details={"limit": exc.limit, "expression": _clip(source, 500), "node_id": node_id},
    )


def _clip(text: str, chars: int = 120) -> str:
    return text if len(text) <= chars else text[: chars - 1] + "…"


def _size(value: Any) -> int:
    if value is None or isinstance(value, (bool, int, float)):
        return 8
    if isinstance(value, str):
        return len(value)
    try:
        return len(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return 0
