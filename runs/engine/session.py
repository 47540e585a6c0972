"""`Session`: one advance of one run. Replays the committed step log, then drives the loop that starts
ready nodes, collects finished ones, honours cancel, deadlines and retries, and keeps the lease alive.
Executing a step lives in runs/engine/steps.py, ending a run and committing in runs/engine/writes.py,
edge activation in runs/engine/activation.py."""

from __future__ import annotations

import asyncio
import datetime as dt
import heapq
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from runs.engine import io
from runs.engine.activation import Activation, now
from runs.engine.graph import Graph
from runs.engine.heartbeat import HEARTBEATS
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

PARKED = object()  # `Session.step` returns it when the run can only wait for its in-flight nodes
PARK_CHECK_S = 5.0  # a parked session looks at its run at least this often, whatever it waits for


class _WakingEvent(threading.Event):
    """The session's cancel flag: setting it also wakes the session if it is parked."""

    def __init__(self, session: Session):
        super().__init__()
        self.session = session

    def set(self) -> None:
        super().set()
        self.session.wake()


def _outcome(fut: Future):
    """A finished in-flight future as the ("ok" | "error" | "cancelled", value) pair `_complete` takes."""
    if fut.cancelled():
        return ("cancelled", None)
    return fut.result()


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
        # Set until a commit holds a finished step: that progress resets the run's count of expired leases.
        self.recoveries_to_reset = snap.recoveries > 0
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
        self.watched: set[Future] = set()  # in-flight futures that wake the session when they finish
        self.delayed: list[tuple[float, int, str]] = []
        self.cancel_event = _WakingEvent(self)
        self.lease_lost = False
        # Parking (see `step`): who runs the session next, and whether a wake-up came while it was stepping.
        self.started = False
        self.stepping = False
        self.scheduled = False
        self.closed = False
        self.wake_pending = False
        self.wake_lock = threading.Lock()
        self.on_wake: Callable[[], None] = lambda: None
        self.timer: io.Timer | None = None
        self.blocking_calls: deque[tuple[Callable[[], Any], Future]] = deque()
        self.session_started = time.monotonic()
        self.lease_extended_at = self.session_started  # acquire set the expiry
        self.last_beat = self.session_started  # the heartbeat thread's last check (runs/engine/heartbeat.py)
        active_ms = (snap.timings or {}).get("active_ms", 0)
        self.deadline = self.session_started + self.limits.max_duration_s - active_ms / 1000.0

    # --- driver ----------------------------------------------------------------------------------

    def run(self) -> str | None:
        """Advance the run on this thread until it finishes, waits or is lost, sleeping while it is parked."""
        woken = threading.Event()
        self.on_wake = woken.set
        outcome = self.step()
        while outcome is PARKED:
            woken.wait()
            woken.clear()
            outcome = self.step()
        return outcome

    def drive(self, schedule: Callable[[Callable[[], None]], None], done: Callable[[Session], None]) -> None:
        """Advance the run without holding a thread while it is parked: `schedule(fn)` runs fn on one of the
        engine's threads (database writes happen there); `done(session)` is called once it is over."""

        def go() -> None:
            if self.step() is not PARKED:
                done(self)

        self.on_wake = lambda: schedule(go)
        go()

    def step(self) -> str | None | object:
        """Run until the session finishes (its status) or can only wait for in-flight nodes (PARKED)."""
        with self.wake_lock:
            self.stepping = True
            self.scheduled = False
            self.wake_pending = False
        parked = False
        try:
            if not self.started:
                self.started = True
                ACTIVE_RUNS[self.run_id] = self.cancel_event
                if self.snap.cancel_requested:
                    self._finish("cancelled", error={"code": "cancelled", "message": "The run was cancelled."})
                    return self.finished_status
                if self.snap.recoveries >= self.limits.max_recoveries:
                    self._fail_crashed()
                    return self.finished_status
                self._prepare()
                if self.finished_status is not None:
                    return self.finished_status
            parked = self._loop() is PARKED
            return PARKED if parked else self.finished_status
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
            if not parked:
                self._close()
            with self.wake_lock:
                self.stepping = False
                again = parked and self.wake_pending and not self.scheduled
                self.scheduled = self.scheduled or again
            if again:
                self.on_wake()  # a completion arrived while this step was still deciding to park

    def _close(self) -> None:
        with self.wake_lock:
            self.closed = True
        HEARTBEATS.remove(self)
        if self.timer is not None:
            self.timer.cancel()
        ACTIVE_RUNS.pop(self.run_id, None)
        for fut, item in self.inflight.items():
            item.ctx.cancel_event.set()
            fut.cancel()
        while self.blocking_calls:
            self.blocking_calls.popleft()[1].cancel()
        self.redactor.forget()

    async def blocking(self, fn: Callable, *args: Any, **kwargs: Any) -> Any:
        """For asynchronous executors: run `fn` (database work) on this session's engine thread and await its
        result, keeping the I/O loop free. The engine thread is the one that advances the run: it also sees
        what the run's own transaction sees."""
        future: Future = Future()
        self.blocking_calls.append((lambda: fn(*args, **kwargs), future))
        self.wake()
        return await asyncio.wrap_future(future)

    def _run_blocking_calls(self) -> bool:
        ran = False
        while self.blocking_calls:
            call, future = self.blocking_calls.popleft()
            ran = True
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(call())
            except BaseException as exc:
                future.set_exception(exc)
        return ran

    def wake(self) -> None:
        """Something the parked session waits for happened (a node finished, a timer, a cancel)."""
        with self.wake_lock:
            if self.closed or self.scheduled:
                return
            if self.stepping:
                self.wake_pending = True
                return
            self.scheduled = True
        self.on_wake()

    def _park(self) -> object:
        """Nothing to do but wait: hand the thread back and get woken by a completion, a due retry or deadline,
        or a cancel."""
        HEARTBEATS.add(self)
        for fut in self.inflight:
            if fut not in self.watched:
                self.watched.add(fut)
                fut.add_done_callback(lambda _f: self.wake())
        due = [self.deadline, time.monotonic() + PARK_CHECK_S]
        if self.delayed:
            due.append(self.delayed[0][0])
        due.extend(item.deadline for item in self.inflight.values() if item.deadline is not None)
        if self.timer is not None:
            self.timer.cancel()
        self.timer = io.Timer(min(due) - time.monotonic(), self.wake)
        return PARKED

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
                # In flight on a worker that died: it runs again (the idempotency key stays the same), as the
                # next attempt: the lost one counts.
                key = (s.node_id, s.iteration)
                self.attempts[key] = max(self.attempts.get(key, 0), s.attempt)
                s.status, s.finished_at = "cancelled", ts
                s.error = {"code": "worker_lost", "message": "The worker running this step stopped; retried."}
                self._queue_step(s)
            elif s.order is None and s.status == "waiting":
                timeout_at = (s.wait or {}).get("timeout_at")
                if timeout_at and dt.datetime.fromisoformat(timeout_at.replace("Z", "+00:00")) <= ts:
                    on_timeout = (s.wait or {}).get("on_timeout")
                    if on_timeout is not None:
                        # A timer (e.g. `delay`): its time has come; the step ends as its node said when it began.
                        s.status, s.port, s.finished_at = "succeeded", on_timeout.get("port"), ts
                        s.output = on_timeout.get("output")
                    else:
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

    def _fail_crashed(self) -> None:
        """The run's lease expired `max_recoveries` times in a row with no step finishing in between: whatever
        it does kills or freezes the worker that runs it. Failing it here (before replaying or executing
        anything) stops it from taking down one worker after another."""
        ts = now()
        lost = [s for s in self.snap.steps if s.order is None and s.status == "running"]
        for s in lost:
            s.status, s.finished_at = "cancelled", ts
            s.error = {"code": "worker_lost", "message": "The worker running this step stopped."}
            self._queue_step(s)
            self._event("step.finished", s.node_id, self._finished_data(s))
        nodes = sorted({s.node_id for s in lost})
        where = f" while running {', '.join(repr(n) for n in nodes)}" if nodes else ""
        count = self.snap.recoveries
        self._finish(
            "failed",
            error={
                "code": "crashed_repeatedly",
                "message": f"The worker running this run stopped {count} times in a row{where} before a step "
                f"could finish; the run is not started again (TRELLIS_RUN_MAX_RECOVERIES = "
                f"{self.limits.max_recoveries}).",
                "node_id": nodes[0] if len(nodes) == 1 else None,
            },
        )

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
            self._run_blocking_calls()
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
            done = [fut for fut in self.inflight if fut.done()]
            t = time.monotonic()
            overdue = any(item.deadline is not None and t >= item.deadline for item in self.inflight.values())
            due = bool(self.delayed) and self.delayed[0][0] <= t
            if not done and not overdue and not due:
                if self._run_blocking_calls():
                    continue
                return self._park()
            try:
                for fut in done:
                    item = self.inflight.pop(fut)
                    self.watched.discard(fut)
                    self._complete(item.record, item.ctx, _outcome(fut), item.started, item.delta)
                    if self.finished_status:
                        return
                t = time.monotonic()
                if t >= self.deadline:
                    continue  # the run's own limit: handled at the top of the loop
                for fut, item in list(self.inflight.items()):
                    if item.deadline is not None and t >= item.deadline:
                        del self.inflight[fut]
                        self.watched.discard(fut)
                        item.ctx.cancel_event.set()
                        fut.cancel()  # an asynchronous node's task (and its HTTP call) ends now
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
