"""Hands a run to whoever executes it: the in-process thread pool (default mode) or a Celery worker.

Both end in the process's engine (runs/process_engine.py); Celery tasks (runs/tasks.py) are sent by name. In
queue mode run ids go through one publisher thread per process, which sends whatever has piled up while it was
busy as one Celery message (group commit: a lone run is sent at once, a burst of webhooks costs a few messages
instead of one each). The reaper (`reap`) sends again the runs that need a worker and have none: runs whose
lease expired (a worker died or froze), queued runs whose message is overdue (lost before a worker took it)
and waiting runs whose approval timed out.

Recovered runs jump the queue: fresh runs travel at a lower broker priority (`PRIORITY_FRESH`) than everything
else, so a run taken back from a dead worker is the next one a free worker process picks up, however many
fresh runs are queued (Redis keeps one list per priority step and workers pop the higher one first). A
recovered run that had already lost a worker before goes alone in its message: if it is what kills workers, it
takes no other run down with it.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import os
import threading
import time
from collections import deque

from celery import current_app
from django.conf import settings
from django.db import connections, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from runs.engine.core import Claim
from runs.engine.pool import RunPool
from runs.models import Run, RunStatus
from runs.persistence.engine import HOLD_PREFIX
from runs.persistence.runs import mark_redispatched
from runs.process_engine import engine
from trellis.inflight import InFlight

log = logging.getLogger("trellis.dispatch")

_pool: RunPool | None = None
_pool_lock = threading.Lock()
_in_flight = InFlight()  # inline runs submitted and not finished (see inline_wait_idle)
_reaper_started = False


def lease_new_run(run: Run) -> None:
    """Default mode: lease a new run, before it is stored, to the advance that will start it, which then starts
    without a write to take the lease (runs/engine/core.py `Claim`). Pass the run as stored to `dispatch_run`."""
    if settings.TRELLIS_EXECUTOR != "celery" and settings.INLINE_PARKING:
        the_engine = engine()
        the_engine.store.claim(run, the_engine.new_owner(), the_engine.limits.lease_s)


def dispatch_run(run_id, *, caller_waits: bool = False, stored: Run | None = None) -> None:
    """Start advancing a run. Call it on transaction commit. `caller_waits`: someone is waiting for this run's
    result right now; in default mode its work goes ahead of other runs' (runs/engine/pool.py). `stored`: the
    new run as stored, leased by `lease_new_run`."""
    if settings.TRELLIS_EXECUTOR == "celery":
        _publisher().add(str(run_id))
        return
    pool = _inline_pool()
    if settings.INLINE_PARKING:
        # The run's steps run on the pool's threads; while its nodes wait on the network it holds none.
        the_engine = engine()
        claim = None
        if stored is not None and stored.lease_owner:
            claim = Claim(stored.lease_owner, stored.lease_expires_at, lambda: the_engine.store.adopt(stored))
        if caller_waits:
            future = the_engine.advance_async(str(run_id), pool.submit_urgent, pool.submit_urgent, claim=claim)
        else:
            future = the_engine.advance_async(str(run_id), pool.submit, pool.submit_later, claim=claim)
    else:
        future = pool.submit(engine().advance, str(run_id))
    _in_flight.add(future)


def inline_wait_idle(timeout_s: float) -> bool:
    """Wait until the in-process executor has no run left to advance. True when idle."""
    return _in_flight.wait_idle(timeout_s)


class _Publisher:
    """Sends queued run ids to Celery from one daemon thread, as many per message as have piled up."""

    def __init__(self, max_batch: int, send, linger_s: float = 0.0):
        self.max_batch = max_batch
        self.send = send  # callable(list of run ids): one broker message
        # While runs keep coming (the last message went out moments ago), wait this long for more before
        # sending: under load a broker write per run would cost more than the run. A lone run goes at once.
        self.linger_s = linger_s
        self.last_sent = 0.0
        self.pending: deque[str] = deque()
        self.wake = threading.Condition()
        self.pid = os.getpid()
        threading.Thread(target=self._loop, name="trellis-dispatch", daemon=True).start()
        atexit.register(self._send_rest)  # a short-lived process (a command) must not exit with ids unsent

    def _send_rest(self) -> None:
        while True:
            with self.wake:
                if not self.pending:
                    return
                batch = self._take()
            self._send(batch)

    def add(self, run_id: str) -> None:
        with self.wake:
            self.pending.append(run_id)
            self.wake.notify()

    def _take(self) -> list[str]:
        return [self.pending.popleft() for _ in range(min(len(self.pending), self.max_batch))]

    def _loop(self) -> None:
        while True:
            with self.wake:
                while not self.pending:
                    self.wake.wait()
                started = time.monotonic()
                if started - self.last_sent < BUSY_S:
                    while (
                        len(self.pending) < self.max_batch and (left := started + self.linger_s - time.monotonic()) > 0
                    ):
                        self.wake.wait(left)
                batch = self._take()
            self._send(batch)
            self.last_sent = time.monotonic()

    def _send(self, batch: list[str]) -> None:
        try:
            self.send(batch)
        except Exception:
            # The runs stay queued in the database: the reaper sends them again.
            log.exception("could not send %d run(s) to the broker; the reaper will retry", len(batch))


# Broker priorities (Redis: 0 is popped first; kombu's steps are 0, 3, 6, 9). Fresh runs go below every other
# message (recovered runs, beat's reap, callbacks), so none of those waits behind a backlog of fresh runs.
PRIORITY_FRESH = 6
PRIORITY_RECOVERY = 0


def _send(batch: list[str], priority: int) -> None:
    # By name: runs/tasks.py imports this module (the reaper), not the other way round.
    if len(batch) == 1:
        current_app.send_task("runs.run_advance", args=[batch[0]], priority=priority)
    else:
        current_app.send_task("runs.run_advance_many", args=[batch], priority=priority)


def _send_to_celery(batch: list[str]) -> None:
    _send(batch, PRIORITY_FRESH)


def dispatch_recovered(run_ids: list[str], *, alone: bool = False) -> None:
    """Hand back runs whose worker was lost, ahead of fresh runs. They go in messages of as many runs as a
    worker process advances at once (all start at once), or `alone`: a run that already crashed a worker
    before may be what kills them, and takes no other run down with it."""
    if settings.TRELLIS_EXECUTOR != "celery":
        for run_id in run_ids:
            dispatch_run(run_id)
        return
    size = 1 if alone else settings.WORKER_RUN_THREADS
    for i in range(0, len(run_ids), size):
        batch = [str(run_id) for run_id in run_ids[i : i + size]]
        try:
            _send(batch, PRIORITY_RECOVERY)
        except Exception:
            # Their dispatched_at says they were sent: a pass after RUN_QUEUED_GRACE_S sends them again.
            log.exception("could not send %d recovered run(s) to the broker", len(batch))


_publisher_instance: _Publisher | None = None
BUSY_S = 0.05  # a message sent this recently means runs are arriving in a stream


def _publisher() -> _Publisher:
    global _publisher_instance
    pid = os.getpid()
    if _publisher_instance is None or _publisher_instance.pid != pid:  # a forked child needs its own thread
        with _pool_lock:
            if _publisher_instance is None or _publisher_instance.pid != pid:
                _publisher_instance = _Publisher(
                    settings.RUN_DISPATCH_MAX_BATCH, _send_to_celery, settings.RUN_DISPATCH_LINGER_MS / 1000
                )
    return _publisher_instance


def _inline_pool() -> RunPool:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = RunPool(settings.INLINE_EXECUTOR_THREADS, "trellis-run")
        return _pool


def reap(*, now: dt.datetime | None = None) -> list[str]:
    """Sends again the runs that need a worker and have none, and returns their ids. A run is sent again
    only when its last message is overdue, and `dispatched_at` records each send under the row lock, so
    that however many reapers run (one per worker, plus beat's) each stuck run goes out once:

    * lease expired (queued or running): its worker died or froze. Sent at once, ahead of the backlog, unless
      it was already sent since the lease expired (then only after RUN_QUEUED_GRACE_S without a worker
      taking it). A queued run's lease is the hold of the worker that received its message (runs.tasks).
    * running without a lease (given up after an error): after RUN_QUEUED_GRACE_S.
    * queued and never taken: its message may still wait in the broker behind a backlog, or have been lost
      before it got there. Sent again, at the back of the queue, after RUN_QUEUED_GRACE_S, then after twice
      that, four times… (a long backlog costs a few duplicates per run at most, never one per pass).
    * waiting with an approval timeout due.
    """
    now = now or timezone.now()
    grace = dt.timedelta(seconds=settings.RUN_QUEUED_GRACE_S)
    sent = Coalesce("dispatched_at", "created_at")
    lease_lost = Q(status__in=[RunStatus.QUEUED, RunStatus.RUNNING], lease_expires_at__lt=now) & (
        Q(sent__lt=F("lease_expires_at")) | Q(sent__lt=now - grace)
    )
    released = Q(status=RunStatus.RUNNING, lease_owner__isnull=True, sent__lt=now - grace)
    never_taken = Q(status=RunStatus.QUEUED, lease_owner__isnull=True, sent__lt=now - grace)
    free = Q(lease_owner__isnull=True) | Q(lease_expires_at__lt=now)
    wake = Q(status=RunStatus.WAITING, wake_at__lte=now) & free & (Q(sent__lt=F("wake_at")) | Q(sent__lt=now - grace))
    recovered: list[str] = []
    suspects: list[str] = []
    later: list[str] = []
    with transaction.atomic():
        rows = (
            Run.objects.annotate(sent=sent)
            .filter(lease_lost | released | never_taken | wake)
            .order_by("sent")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", "status", "lease_owner", "sent", "redispatches", "recoveries")[:500]
        )
        for pk, status, lease_owner, sent_at, redispatches, recoveries in rows:
            if status == RunStatus.QUEUED and lease_owner is None:
                if sent_at >= now - grace * 2 ** min(redispatches, 6):
                    continue  # backing off: probably still in the broker behind a backlog
                later.append(str(pk))
            elif status == RunStatus.WAITING:
                later.append(str(pk))
            elif recoveries > 0 and not (lease_owner or "").startswith(HOLD_PREFIX):
                suspects.append(str(pk))  # its second lost lease in a row at least
            else:
                recovered.append(str(pk))
        if recovered or suspects or later:
            mark_redispatched(recovered + suspects + later, now)
    if recovered or suspects:
        log.info("reaper: %d run(s) lost their worker; sent again ahead of the queue", len(recovered + suspects))
        dispatch_recovered(recovered)
        dispatch_recovered(suspects, alone=True)
    for run_id in later:
        log.info("reaper: dispatching run %s again", run_id)
        dispatch_run(run_id)
    return recovered + suspects + later


def reaper_loop(interval_s: float, stop: threading.Event | None = None) -> None:
    stop = stop or threading.Event()
    while not stop.wait(interval_s):
        try:
            reap()
        except Exception:
            log.exception("reaper failed")
        finally:
            connections.close_all()


def start_reaper_thread(interval_s: float | None = None) -> threading.Thread:
    interval = interval_s or settings.RUN_REAPER_INTERVAL_S
    thread = threading.Thread(target=reaper_loop, args=(interval,), name="trellis-reaper", daemon=True)
    thread.start()
    return thread


def ensure_inline_reaper() -> None:
    """Default mode: one reaper thread in the web process (also resumes runs left by a restart)."""
    global _reaper_started
    if _reaper_started or settings.TRELLIS_EXECUTOR != "inline" or settings.RUN_REAPER_INTERVAL_S <= 0:
        return
    with _pool_lock:
        if _reaper_started:
            return
        _reaper_started = True
    start_reaper_thread()
