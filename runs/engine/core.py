"""The engine: advances one run from its committed step log until it finishes, waits or loses its lease.

Plain Python. State is rebuilt by replaying the run's finished steps in order, so a run resumes on
any worker after a crash without executing a completed step again. Built-in nodes (pure CEL) run on
the calling thread; nodes that do I/O run in a small thread pool so that fan-out branches overlap.
"""

from __future__ import annotations

import datetime as dt
import heapq
import json
import logging
import threading
import time
import uuid
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from builder.expressions import ExpressionError, evaluate, render_template
from runs.engine.activation import Activation, now
from runs.engine.graph import Graph
from runs.engine.store import Commit, Event, LeaseLost, RunSnapshot, StepRecord, Store
from runs.executors.base import EXECUTORS, NodeContext, NodeError, NodeResult, RunCancelled
from runs.redaction import Redactor

log = logging.getLogger("trellis.engine")

# Pure, fast node types: executed inline on the engine thread, never retried for time.
INLINE_TYPES = frozenset({"start", "end", "transform", "set_state", "if_else", "while", "user_approval"})
TERMINAL = frozenset({"succeeded", "failed", "cancelled", "timed_out"})

# Runs being advanced by this process: run id -> cancel event (instant cancel in inline mode).
ACTIVE_RUNS: dict[str, threading.Event] = {}


@dataclass
class Limits:
    max_steps: int = 1000
    max_duration_s: float = 3600
    max_loop_iterations: int = 100
    max_payload_bytes: int = 1024 * 1024
    lease_s: float = 30
    # Finished built-in steps are grouped into one transaction for up to this long (0: one per step).
    commit_batch_ms: float = 0
    pool_size: int = 8
    delta_interval_s: float = 0.05
    heartbeat_s: float | None = None  # default: a third of the lease, at most 1 s (also polls for cancel)

    @classmethod
    def from_settings(cls) -> Limits:
        from django.conf import settings

        return cls(
            max_steps=settings.RUN_MAX_STEPS,
            max_duration_s=settings.RUN_MAX_DURATION_S,
            max_loop_iterations=settings.RUN_MAX_LOOP_ITERATIONS,
            max_payload_bytes=settings.STEP_MAX_PAYLOAD_BYTES,
            lease_s=settings.RUN_LEASE_S,
            commit_batch_ms=getattr(settings, "RUN_COMMIT_BATCH_MS", 0),
            pool_size=getattr(settings, "RUN_NODE_THREADS", 8),
        )


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


class RunFailure(Exception):
    """Ends the run: a limit was breached or a node failed with on_error=fail."""

    def __init__(self, status: str, code: str, message: str, node_id: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.node_id = status, code, message, node_id


@dataclass
class _InFlight:
    record: StepRecord
    ctx: NodeContext
    future: Future
    started: float
    deadline: float | None
    delta: _Delta


@dataclass
class _Delta:
    """Coalesces streamed text so listeners get at most one message per interval per step."""

    session: Any
    node_id: str
    step_id: str
    buffer: list[str] = field(default_factory=list)
    last: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def emit(self, text: str) -> None:
        if not text:
            return
        with self.lock:
            self.buffer.append(text)
            if time.monotonic() - self.last >= self.session.limits.delta_interval_s:
                self._flush_locked()

    def flush(self) -> None:
        with self.lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if not self.buffer:
            return
        text = self.session.redactor.text("".join(self.buffer))
        self.buffer.clear()
        self.last = time.monotonic()
        try:
            self.session.store.broadcast_delta(
                self.session.run_id, self.node_id, {"step_id": self.step_id, "text": text}
            )
        except Exception:  # a lost live message never fails a step
            log.exception("could not broadcast a step delta")


class Engine:
    def __init__(self, store: Store, limits: Limits | None = None, *, owner: str | None = None):
        self.store = store
        self.limits = limits or Limits()
        self.owner = owner or f"engine-{uuid.uuid4().hex[:12]}"

    def advance(self, run_id: str) -> str | None:
        """Advance the run as far as it goes now. Returns the status it was left in (None: not ours)."""
        status = None
        for _ in range(100):  # a waiting run whose approval arrived meanwhile is picked up again
            # A lease holder names one advance, not a process: two threads of one process that were
            # handed the same run (a duplicate dispatch) must exclude each other too.
            owner = f"{self.owner}:{uuid.uuid4().hex[:8]}"
            snapshot = self.store.acquire(str(run_id), owner, self.limits.lease_s)
            if snapshot is None:
                return status
            session = _Session(self, snapshot, owner)
            status = session.run()
            if not session.resume_again:
                return status
        return status


class _Session(Activation):
    """One advance of one run: replay, then execute until finished, waiting or cancelled."""

    def __init__(self, engine: Engine, snap: RunSnapshot, owner: str):
        self.engine = engine
        self.store = engine.store
        self.limits = engine.limits
        self.owner = owner
        self.snap = snap
        self.run_id = snap.id
        self.g = Graph(snap.graph)
        self.redactor = Redactor()
        self.resume_again = False
        self.finished_status: str | None = None
        # Execution state (rebuilt by replay).
        self.edge_state: dict[str, bool] = {}  # edge id -> active (True) or dead (False)
        self.done: set[str] = set()  # nodes started, finished or skipped in the current pass
        self.ready: deque[str] = deque()
        self.ready_set: set[str] = set()
        self.outputs: dict[str, Any] = {}
        self.nodes_scope: dict[str, dict] = {}
        self.activated_by: dict[str, str] = {}
        self.loop_index: dict[str, int | None] = dict.fromkeys(self.g.whiles)
        self.attempts: dict[tuple[str, int], int] = {}
        self.waiting: dict[str, StepRecord] = {}  # node id -> its waiting step
        self.running_nodes: set[str] = set()
        self.state: dict = {}
        self.executed = 0
        self.counter = snap.step_counter
        self.replaying = False
        self.loops_of: dict[str, list[str]] = {}
        for w in self.g.whiles:
            for n in self.g.body[w]:
                self.loops_of.setdefault(n, []).append(w)
        # Pending writes, flushed as one transaction.
        self.pending_steps: dict[str, StepRecord] = {}
        self.pending_events: list[Event] = []
        self.pending_run: dict = {}
        self.usage_total = {"input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0, **(snap.usage or {})}
        self.pending_since: float | None = None
        self.inflight: dict[Future, _InFlight] = {}
        self.delayed: list[tuple[float, int, str]] = []
        self.pool: ThreadPoolExecutor | None = None
        self.cancel_event = threading.Event()
        self.lease_lost = False
        self.stop_heartbeat = threading.Event()
        self.session_started = time.monotonic()
        self.lease_extended_at = self.session_started  # acquire set the expiry
        active_ms = (snap.timings or {}).get("active_ms", 0)
        self.deadline = self.session_started + self.limits.max_duration_s - active_ms / 1000.0

    # --- driver ----------------------------------------------------------------------------------

    def run(self) -> str | None:
        ACTIVE_RUNS[self.run_id] = self.cancel_event
        self.heartbeat_thread: threading.Thread | None = None
        try:
            if self.snap.cancel_requested:
                self._finish("cancelled", error={"code": "cancelled", "message": "The run was cancelled."})
            else:
                self._prepare()
                if self.finished_status is None:
                    self._loop()
            return self.finished_status
        except LeaseLost:
            log.warning("run %s: lease lost, another worker continues it", self.run_id)
            return None
        except Exception:
            log.exception("run %s: engine error", self.run_id)
            try:
                self._discard_pending()
                self._finish("failed", error={"code": "engine_error", "message": "Internal engine error."})
            except Exception:
                log.exception("run %s: could not record the engine error", self.run_id)
                self.store.release(self.run_id, self.owner)
            return self.finished_status
        finally:
            self.stop_heartbeat.set()
            ACTIVE_RUNS.pop(self.run_id, None)
            for item in self.inflight.values():
                item.ctx.cancel_event.set()
            if self.pool is not None:
                self.pool.shutdown(wait=False, cancel_futures=True)
            self.redactor.forget()

    def _ensure_heartbeat(self) -> None:
        """Started only once the engine blocks on a node or a backoff: every commit extends the
        lease too, so a run of quick built-in steps needs no extra thread."""
        if self.heartbeat_thread is None:
            self.heartbeat_thread = threading.Thread(
                target=self._heartbeat, name=f"lease-{self.run_id[:8]}", daemon=True
            )
            self.heartbeat_thread.start()

    def _heartbeat(self) -> None:
        interval = self.limits.heartbeat_s or max(0.05, min(self.limits.lease_s / 3.0, 1.0))
        try:
            while not self.stop_heartbeat.wait(interval):
                try:
                    if self.store.heartbeat(self.run_id, self.owner, self.limits.lease_s):
                        self.cancel_event.set()
                    self.lease_extended_at = time.monotonic()
                except LeaseLost:
                    self.lease_lost = True
                    self.cancel_event.set()
                    return
                except Exception:
                    log.exception("run %s: heartbeat failed", self.run_id)
        finally:
            cleanup = getattr(self.store, "thread_cleanup", None)
            if cleanup:
                cleanup()

    # --- replay ------------------------------------------------------------------------------------

    def _prepare(self) -> None:
        snap = self.snap
        start = self.g.starts()
        self.state = dict((self.g.config(start[0]).get("state") or {}) if start else {})
        self.replaying = True
        for nid in start:
            self._make_ready(nid)
        ordered = [s for s in snap.steps if s.order is not None]
        ordered.sort(key=lambda s: s.order)
        for rec in ordered:
            self._replay(rec)
        ts = now()
        # Approvals decided while the run waited: apply them after everything already in the log.
        decided = [
            s for s in snap.steps if s.order is None and s.status == "succeeded" and s.node_type == "user_approval"
        ]
        decided.sort(key=lambda s: s.finished_at or ts)
        for s in snap.steps:
            if s.order is None and s.status == "running":
                # In flight on a worker that died: it runs again (the idempotency key stays the same).
                s.status, s.finished_at = "cancelled", ts
                s.error = {"code": "worker_lost", "message": "The worker running this step stopped; retried."}
                self._queue_step(s)
            elif s.order is None and s.status == "waiting":
                timeout_at = (s.wait or {}).get("timeout_at")
                if timeout_at and dt.datetime.fromisoformat(timeout_at.replace("Z", "+00:00")) <= ts:
                    s.status, s.port, s.finished_at = "succeeded", "rejected", ts
                    s.output = {"decision": "rejected", "comment": "Timed out waiting for approval.", "by": None}
                    decided.append(s)
                else:
                    self.waiting[s.node_id] = s
                    self._unready(s.node_id)
                    self.done.add(s.node_id)
        self.replaying = False
        for s in decided:
            self.counter += 1
            s.order = self.counter
            self._unready(s.node_id)
            self._queue_step(s)
            self._event("step.finished", s.node_id, self._finished_data(s))
            self._apply(s)
        if self.snap.status in ("queued", "waiting") or self.snap.started_at is None:
            fields: dict = {"status": "running"}
            if self.snap.started_at is None:
                fields["started_at"] = now()
            self.pending_run.update(fields)
            self._event("run.status", None, {"status": "running"})

    def _replay(self, rec: StepRecord) -> None:
        key = (rec.node_id, rec.iteration)
        self.attempts[key] = max(self.attempts.get(key, 0), rec.attempt)
        if rec.status in ("skipped", "cancelled"):
            return
        if rec.status == "failed" and (rec.error or {}).get("will_retry"):
            return
        if rec.node_id not in self.g.nodes:
            return
        self.executed += 1
        self._unready(rec.node_id)
        self.done.add(rec.node_id)
        self._apply(rec)

    # --- execution ---------------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            if self.lease_lost:
                raise LeaseLost()
            if self.cancel_event.is_set():
                self._finish("cancelled", error={"code": "cancelled", "message": "The run was cancelled."})
                return
            if time.monotonic() > self.deadline:
                self._fail_limit(
                    "timed_out",
                    "run_timeout",
                    f"The run took longer than the limit of {self.limits.max_duration_s:g} s (RUN_MAX_DURATION_S).",
                )
                return
            t = time.monotonic()
            while self.delayed and self.delayed[0][0] <= t:
                _, _, nid = heapq.heappop(self.delayed)
                self.running_nodes.discard(nid)
                self._make_ready(nid)
            if self.ready:
                nid = self.ready.popleft()
                self.ready_set.discard(nid)
                try:
                    self._start(nid)
                except RunFailure as failure:
                    self._finish(
                        failure.status,
                        error={"code": failure.code, "message": failure.message, "node_id": failure.node_id},
                    )
                if self.finished_status:
                    return
                self._maybe_flush()
                continue
            if not self.inflight and not self.delayed:
                break
            self._flush()
            self._ensure_heartbeat()
            timeout = 0.2
            if self.delayed:
                timeout = min(timeout, max(0.0, self.delayed[0][0] - time.monotonic()))
            for item in self.inflight.values():
                if item.deadline is not None:
                    timeout = min(timeout, max(0.0, item.deadline - time.monotonic()))
            if not self.inflight:
                time.sleep(timeout)
                continue
            done, _ = wait(list(self.inflight), timeout=timeout, return_when=FIRST_COMPLETED)
            try:
                for fut in done:
                    item = self.inflight.pop(fut)
                    self._complete(item.record, item.ctx, fut.result(), item.started, item.delta)
                    if self.finished_status:
                        return
                t = time.monotonic()
                if t >= self.deadline:
                    continue  # the run's own limit: handled at the top of the loop
                for fut, item in list(self.inflight.items()):
                    if item.deadline is not None and t >= item.deadline:
                        del self.inflight[fut]
                        item.ctx.cancel_event.set()
                        timeout_s = self.g.config(item.record.node_id).get("timeout_s")
                        err = NodeError(
                            f"The node did not finish within {timeout_s} s.", retryable=True, code="timeout"
                        )
                        self._complete(item.record, item.ctx, ("error", err), item.started, item.delta)
                        if self.finished_status:
                            return
            except RunFailure as failure:
                self._finish(
                    failure.status,
                    error={"code": failure.code, "message": failure.message, "node_id": failure.node_id},
                )
                return
        if self.waiting:
            self._go_waiting()
        else:
            self._finish(
                "failed",
                error={"code": "no_end_reached", "message": "The run stopped without reaching an end node."},
            )

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
        delta = _Delta(self, nid, rec.id)
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
            evaluate=lambda source: _evaluate(source, scope),
            render=lambda template: _render(template, scope),
            resolve_secret=self._resolve_secret,
            emit_delta=delta.emit,
            services={"limits": self.limits, "run_input": self.snap.input, "redact": self.redactor.add},
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
        else:
            self._queue_step(rec)
            self._flush()  # the running row is visible while the node works
            if self.pool is None:
                self.pool = ThreadPoolExecutor(self.limits.pool_size, thread_name_prefix=f"run-{self.run_id[:8]}")
            cleanup = getattr(self.store, "thread_cleanup", None)
            fut = self.pool.submit(_call, executor, ctx, cleanup)
            self.inflight[fut] = _InFlight(rec, ctx, fut, started, step_deadline, delta)

    def _complete(self, rec: StepRecord, ctx: NodeContext, outcome, started: float, delta: _Delta) -> None:
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
                rec.usage = result.usage.as_dict()
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
        self.pending_run["usage"] = dict(total)

    def _resolve_secret(self, name: str) -> str:
        value = self.store.resolve_secret(self.snap.workspace_id, name)
        self.redactor.add(value)
        return value

    # --- ending ------------------------------------------------------------------------------------

    def _fail_limit(self, status: str, code: str, message: str) -> None:
        self._finish(status, error={"code": code, "message": message, "node_id": None})

    def _cancel_inflight(self) -> None:
        for item in self.inflight.values():
            item.ctx.cancel_event.set()
            item.delta.flush()
            rec = item.record
            rec.status, rec.finished_at = "cancelled", now()
            rec.duration_ms = int((time.monotonic() - item.started) * 1000)
            self._queue_step(rec)
            self._event("step.finished", rec.node_id, self._finished_data(rec))
        self.inflight.clear()
        for rec in self.waiting.values():
            rec.status, rec.finished_at = "cancelled", now()
            self._queue_step(rec)
            self._event("step.finished", rec.node_id, self._finished_data(rec))
        self.waiting.clear()

    def _active_ms(self) -> int:
        before = (self.snap.timings or {}).get("active_ms", 0)
        return int(before + (time.monotonic() - self.session_started) * 1000)

    def _finish(self, status: str, output: Any = None, error: dict | None = None) -> None:
        self._cancel_inflight()
        output = self.redactor.value(output)
        error = self.redactor.value(error)
        if error is not None:
            error.setdefault("node_id", None)
        finished = now()
        self.pending_run.update(
            {
                "status": status,
                "output": output,
                "error": error,
                "finished_at": finished,
                "wake_at": None,
                "timings": {**(self.snap.timings or {}), "active_ms": self._active_ms()},
            }
        )
        self._event("run.finished", None, {"status": status, "output": output, "error": error})
        self.finished_status = status
        self._flush(release=True)

    def _go_waiting(self) -> None:
        timeouts = [r.wait.get("timeout_at") for r in self.waiting.values() if r.wait and r.wait.get("timeout_at")]
        wake = min(timeouts) if timeouts else None
        self.pending_run.update(
            {
                "status": "waiting",
                "wake_at": dt.datetime.fromisoformat(wake.replace("Z", "+00:00")) if wake else None,
                "timings": {**(self.snap.timings or {}), "active_ms": self._active_ms()},
            }
        )
        steps = [{"step_id": r.id, "node_id": r.node_id, "wait": r.wait} for r in self.waiting.values()]
        self._event("run.waiting", None, {"steps": steps})
        self.finished_status = "waiting"
        resumed = self._flush(release=True)
        if resumed:
            self.resume_again = True

    # --- writes ------------------------------------------------------------------------------------

    def _queue_step(self, rec: StepRecord) -> None:
        self.pending_steps[rec.id] = rec
        if self.pending_since is None:
            self.pending_since = time.monotonic()

    def _event(self, etype: str, node_id: str | None, data: dict) -> None:
        self.pending_events.append(Event(etype, node_id, self.redactor.value(data), now()))
        if self.pending_since is None:
            self.pending_since = time.monotonic()

    def _maybe_flush(self) -> None:
        if self.pending_since is None:
            return
        if (time.monotonic() - self.pending_since) * 1000 >= self.limits.commit_batch_ms:
            self._flush()

    def _discard_pending(self) -> None:
        self.pending_steps.clear()
        self.pending_events.clear()
        self.pending_run = {}
        self.pending_since = None

    def _flush(self, release: bool = False) -> bool:
        if not (self.pending_steps or self.pending_events or self.pending_run or release):
            return False
        commit = Commit(
            steps=list(self.pending_steps.values()),
            events=list(self.pending_events),
            run=dict(self.pending_run),
            step_counter=self.counter,
            release=release,
            extend_lease=time.monotonic() - self.lease_extended_at > self.limits.lease_s / 3.0,
        )
        self._discard_pending()
        result = self.store.commit(self.run_id, self.owner, self.limits.lease_s, commit)
        if commit.extend_lease:
            self.lease_extended_at = time.monotonic()
        for rec in commit.steps:
            rec.persisted = True
        if result.cancel_requested and not release:
            self.cancel_event.set()
        return result.resumed


def _call(executor, ctx: NodeContext, cleanup):
    try:
        return ("ok", executor.run(ctx))
    except NodeError as exc:
        return ("error", exc)
    except RunCancelled:
        return ("cancelled", None)
    except ExpressionError as exc:
        return ("error", NodeError(exc.message, code="expression_error"))
    except Exception as exc:  # an executor bug must not take the run down with it
        log.exception("node %s raised", ctx.node_id)
        return ("error", NodeError(f"{type(exc).__name__}: {exc}", code="internal_error"))
    finally:
        if cleanup is not None:
            cleanup()


def _evaluate(source: str, scope: dict) -> Any:
    try:
        return evaluate(source, scope)
    except ExpressionError as exc:
        raise NodeError(f"Expression '{source}': {exc.message}", code="expression_error") from None


def _render(template: str, scope: dict) -> str:
    try:
        return render_template(template, scope)
    except ExpressionError as exc:
        raise NodeError(f"Template: {exc.message}", code="expression_error") from None


def _size(value: Any) -> int:
    if value is None or isinstance(value, (bool, int, float)):
        return 8
    if isinstance(value, str):
        return len(value)
    try:
        return len(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return 0
