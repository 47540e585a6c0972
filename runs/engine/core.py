"""The engine: advances one run from its committed step log until it finishes, waits or loses its lease.

Plain Python. State is rebuilt by replaying the run's finished steps in order, so a run resumes on
any worker after a crash without executing a completed step again. Built-in nodes (pure CEL) run on
the calling thread; nodes that do I/O run in a small thread pool so that fan-out branches overlap.

This module holds `Engine`, the entry point (`Engine(store, limits).advance(run_id)`), and re-exports
what callers import from here. The rest of the package: `session` (one advance of one run: replay and
the driver loop), `steps` (executing and recording one step), `writes` (ending a run, batched commits),
`activation` (edge and readiness state), `delta` (coalesced streaming text), `limits` (`Limits`,
`RunFailure`), `graph` (the graph as the engine reads it), `store` (the storage interface).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from runs.engine.activation import now
from runs.engine.admission import Admission
from runs.engine.heartbeat import HEARTBEATS
from runs.engine.limits import Limits, RunFailure
from runs.engine.session import ACTIVE_RUNS, Session
from runs.engine.steps import INLINE_TYPES
from runs.engine.store import RunSnapshot, Store

__all__ = ["ACTIVE_RUNS", "INLINE_TYPES", "TERMINAL", "Claim", "Engine", "Limits", "RunFailure"]

TERMINAL = frozenset({"succeeded", "failed", "cancelled", "timed_out"})
MAX_ROUNDS = 100  # a waiting run whose approval arrived meanwhile is picked up again, this often at most

log = logging.getLogger("trellis.engine")


@dataclass(frozen=True)
class Claim:
    """A new run stored already leased to `owner`, the advance that will start it (default mode: runs/dispatch.py).
    While half of that lease is left, nobody else can have taken it: the advance starts from `snapshot()` without a
    write to take the lease, and its session knows how old the lease is, so its first commit or the heartbeat
    extends it in time (a run that waited for a slot under a burst does not pay a write to take its own lease).
    Later than that, it takes the lease as any advance does (its own lease: no recovery is counted)."""

    owner: str
    expires_at: dt.datetime
    snapshot: Callable[[], RunSnapshot]


class Engine:
    def __init__(self, store: Store, limits: Limits | None = None, *, owner: str | None = None):
        self.store = store
        self.limits = limits or Limits()
        self.owner = owner or f"engine-{uuid.uuid4().hex[:12]}"
        self.admission = Admission(self.limits.max_active, self.limits.max_active_per_workspace)

    def new_owner(self) -> str:
        # A lease holder names one advance, not a process: two threads of one process that were handed the same
        # run (a duplicate dispatch) must exclude each other too.
        return f"{self.owner}:{uuid.uuid4().hex[:8]}"

    def advance(self, run_id: str) -> str | None:
        """Advance the run as far as it goes now. Returns the status it was left in (None: not ours)."""
        status = None
        for _ in range(MAX_ROUNDS):
            owner = self.new_owner()
            snapshot = self.store.acquire(str(run_id), owner, self.limits.lease_s)
            if snapshot is None:
                return status
            session = Session(self, snapshot, owner)
            status = session.run()
            if not session.resume_again:
                return status
        return status

    def advance_async(
        self,
        run_id: str,
        schedule: Callable[[Callable[[], None]], object],
        schedule_start: Callable[[Callable[[], None]], object] | None = None,
        on_claimed: Callable[[], None] = lambda: None,
        claim: Claim | None = None,
    ) -> Future:
        """Advance the run like `advance`, without holding a thread while its nodes wait on the network:
        `schedule(fn)` runs fn on one of the caller's threads (the database work happens there), and
        `schedule_start` (default: `schedule`) the first step, taking the lease (runs/engine/pool.py puts it
        after the work of the runs in flight). The run starts when the process's caps allow it
        (runs/engine/admission.py). The future resolves to the status the run was left in once this advance is
        over. `on_claimed()` is called once the first lease is taken (or was not to be had): from then on the
        run is this process's, kept by its heartbeat, and recovered by the reaper if the process dies. `claim`: the
        run was stored leased to this advance (`Claim`)."""
        result: Future = Future()

        def attempt(round_: int, status: str | None) -> None:
            try:
                claimed = claim if round_ == 0 else None
                owner = claimed.owner if claimed else self.new_owner()
                left_s = (claimed.expires_at - now()).total_seconds() if claimed else 0.0
                trusted = left_s > self.limits.lease_s / 2
                if trusted:
                    snapshot = claimed.snapshot()
                else:
                    snapshot = self.store.acquire(str(run_id), owner, self.limits.lease_s)
                if snapshot is None:
                    result.set_result(status)
                    return
                session = Session(self, snapshot, owner)
                if trusted:
                    session.lease_extended_at -= self.limits.lease_s - left_s  # the lease's age, not the session's
            except Exception as exc:
                log.exception("run %s: advance failed", run_id)
                result.set_exception(exc)
                return
            finally:
                if round_ == 0:
                    on_claimed()

            def done(session: Session) -> None:
                self.admission.release(ticket)
                if session.resume_again and round_ + 1 < MAX_ROUNDS:
                    schedule(lambda: attempt(round_ + 1, session.finished_status))
                else:
                    result.set_result(session.finished_status)

            def begin() -> None:
                try:
                    session.drive(schedule, done)
                except Exception as exc:
                    log.exception("run %s: advance failed", run_id)
                    self.admission.release(ticket)
                    result.set_exception(exc)

            # While it waits for a slot the run keeps its lease (the heartbeat thread renews it); a cancel or a
            # lost lease starts it at once, over the caps, to end it.
            session.on_wake = lambda: self.admission.expedite(ticket)
            HEARTBEATS.add(session)
            ticket = self.admission.admit(snapshot.workspace_id, lambda: schedule(begin))

        (schedule_start or schedule)(lambda: attempt(0, None))
        return result
