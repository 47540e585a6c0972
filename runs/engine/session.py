"""`Session`: one advance of one run. Replays the committed step log, then drives the loop that starts
ready nodes, collects finished ones, honours cancel, deadlines and retries, and keeps the lease alive.
Executing a step lives in runs/engine/steps.py, ending a run and committing in runs/engine/writes.py,
edge activation in runs/engine/activation.py."""

from __future__ import annotations

import datetime as dt
import heapq
import logging
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from runs.engine.activation import Activation, now
from runs.engine.graph import Graph
from runs.engine.limits import RunFailure
from runs.engine.steps import InFlight, StepExecution
from runs.engine.store import Event, LeaseLost, RunSnapshot, StepRecord
from runs.engine.writes import Writes
from runs.executors.base import NodeError
from runs.redaction import Redactor

if TYPE_CHECKING:
    from runs.engine.core import Engine

log = logging.getLogger("trellis.engine")

# Runs being advanced by this process: run id -> cancel event (instant cancel in inline mode).
ACTIVE_RUNS: dict[str, threading.Event] = {}


class Session(Activation, StepExecution, Writes):
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
        # (node id, iteration) -> the decided tool approval an agent goes on from (runs/executors/agent_tools.py)
        self.resumes: dict[tuple[str, int], dict] = {}
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
        self.inflight: dict[Future, InFlight] = {}
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
            s
            for s in snap.steps
            if s.order is None and s.status == "succeeded" and (s.node_type == "user_approval" or _tool_approval(s))
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
            if _tool_approval(s):
                # The agent runs again and goes on from its checkpoint with this decision.
                self.resumes[(s.node_id, s.iteration)] = {"decision": s.port, "wait": s.wait}
                self._make_ready(s.node_id)
                continue
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
        if _tool_approval(rec):
            # A decided tool call of an agent, not the agent's result: the node still has to finish.
            self.resumes[(rec.node_id, rec.iteration)] = {"decision": rec.port, "wait": rec.wait}
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


def _tool_approval(rec: StepRecord) -> bool:
    return rec.status == "succeeded" and (rec.wait or {}).get("kind") == "tool_approval"
