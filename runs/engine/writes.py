"""Ending a run (finished, cancelled, waiting) and batching its steps, events and run fields into one
commit to the store. `Writes` is a mixin of the engine session (runs/engine/session.py), which
initialises the attributes it uses."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from runs.engine.activation import now
from runs.engine.store import Commit, Event, StepRecord


class Writes:
    """Mixin for the engine session: pending writes, their flush, and the run's last commit."""

    # --- ending ------------------------------------------------------------------------------------

    def _fail_limit(self, status: str, code: str, message: str) -> None:
        self._finish(status, error={"code": code, "message": message, "node_id": None})

    def _cancel_inflight(self) -> None:
        for fut, item in self.inflight.items():
            item.ctx.cancel_event.set()
            fut.cancel()  # an asynchronous node's task ends where it awaits (its HTTP call is closed)
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
        if self.recoveries_to_reset and any(rec.order is not None for rec in commit.steps):
            commit.run["recoveries"] = 0  # progress: the worker that runs this run is not crash-looping
        self._discard_pending()
        result = self.store.commit(self.run_id, self.owner, self.limits.lease_s, commit)
        if "recoveries" in commit.run:
            self.recoveries_to_reset = False
        if commit.extend_lease:
            self.lease_extended_at = time.monotonic()
        for rec in commit.steps:
            rec.persisted = True
        if result.cancel_requested and not release:
            self.cancel_event.set()
        return result.resumed
