"""Celery tasks: thin, safe to repeat. `run_advance` takes a run id; the lease makes duplicates no-ops."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, wait

from celery import shared_task
from celery.signals import (
    after_setup_logger,
    after_setup_task_logger,
    worker_process_shutdown,
    worker_ready,
    worker_shutdown,
)
from django.conf import settings

from runs.dispatch import reap, start_reaper_thread
from runs.engine.core import Claim
from runs.engine.pool import RunPool
from runs.persistence.engine import holder_name
from runs.process_engine import engine
from runs.redaction import SecretLogFilter
from trellis.heap import settle as settle_heap
from trellis.inflight import InFlight

log = logging.getLogger("trellis.tasks")


@shared_task(name="runs.run_advance", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_advance(run_id: str) -> None:
    take_runs([str(run_id)])


@shared_task(name="runs.run_advance_many", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_advance_many(run_ids: list[str]) -> None:
    """Several runs sent in one message (see runs.dispatch), advanced side by side."""
    take_runs([str(run_id) for run_id in run_ids])


# Runs this process advances whose message is already acked: a warm shutdown waits for them (see below).
_runs = InFlight()
ROOM_POLL_S = 0.05


def take_runs(run_ids: list[str]) -> None:
    """Start advancing the runs of one message and return once each is claimed, not when it ends.

    The message is acked then (acks_late: only after this returns), so a worker's message slots do not cap the
    runs it has in flight; the process's caps do (runs/engine/admission.py). Until a run is claimed, the message
    is what recovers it: if the worker dies before, the broker delivers the message again. From its claim on,
    the database does: the run's lease, renewed by the heartbeat thread, expires if the worker dies, and the
    reaper sends the run again ahead of the queue (runs/dispatch.py). Runs finished or taken meanwhile are
    skipped (the lease check).

    While the process already advances as many runs as its cap, the message waits here, unacked, its runs held
    (a lease of this process, renewed while they wait): the backlog stays in the broker for other workers.
    With the prefork pool the task lasts until its runs' advance is over, as before (isolation over throughput)."""
    process_engine = engine()
    holder = holder_name(process_engine.owner)
    lease_s = process_engine.limits.lease_s
    pool = _batch_pool()
    # Database work goes on the batch pool's threads: with the threads pool a worker has dozens of message
    # slots, and each would otherwise open a database connection of its own.
    if not _has_room(process_engine):
        # They wait here: hold them meanwhile. With room (the usual case) they are leased at once, below.
        _guarded(pool, process_engine.store.hold, run_ids, holder, lease_s, what="hold")
    renewed = time.monotonic()

    def renew_when_due() -> None:
        nonlocal renewed
        if time.monotonic() - renewed >= lease_s / 3:
            _guarded(pool, process_engine.store.renew_holds, run_ids, holder, lease_s, what="renew the holds of")
            renewed = time.monotonic()

    while not _has_room(process_engine):
        time.sleep(ROOM_POLL_S)
        renew_when_due()
    leased = _lease_held(pool, process_engine, run_ids, holder, lease_s)
    claims, advances = [], []
    for run_id in run_ids:
        claimed: Future = Future()
        claims.append(claimed)
        _starting.add(claimed)
        advance = process_engine.advance_async(
            run_id,
            pool.submit,
            pool.submit_later,
            on_claimed=lambda claimed=claimed: claimed.set_result(None),
            claim=leased.get(run_id),
        )
        advances.append(_runs.add(advance))
    while wait(claims, timeout=lease_s / 3).not_done:
        renew_when_due()
    if settings.CELERY_WORKER_POOL == "prefork":
        # Prefork is chosen for isolation: a child process advances one message's runs at a time, so a run that
        # kills its process (sent alone once it is suspected, runs/dispatch.py) takes no other run down with it.
        wait(advances)


_starting = InFlight()  # runs handed to the engine and not claimed yet: they count against the room too


def _has_room(process_engine) -> bool:
    active, waiting = process_engine.admission.counts()
    return active + waiting + len(_starting.futures) < process_engine.limits.max_active


def _lease_held(pool: RunPool, process_engine, run_ids: list[str], holder: str, lease_s: float) -> dict[str, Claim]:
    """The message's fresh runs leased to the advances that will start them, in one statement: each then starts
    from its Claim, without a write of its own to take its lease. Any run not leased so (or all of them, if
    this fails) takes its lease as it starts."""
    store = process_engine.store
    owners = {run_id: process_engine.new_owner() for run_id in run_ids}
    try:
        leased = pool.submit(store.claim_held, owners, holder, lease_s).result()
    except Exception:
        log.exception("could not lease %d held run(s) at once", len(run_ids))
        return {}
    return {
        run_id: Claim(owner, expires_at, lambda run=run: store.adopt(run))
        for run_id, (owner, expires_at, run) in leased.items()
    }


def _guarded(pool: RunPool, fn, run_ids: list[str], holder: str, lease_s: float, *, what: str) -> None:
    try:
        pool.submit(fn, run_ids, holder, lease_s).result()
    except Exception:
        # Only recovery gets slower (these runs wait for their queued grace instead of the hold's expiry).
        log.exception("could not %s %d run(s)", what, len(run_ids))


@worker_shutdown.connect
@worker_process_shutdown.connect
def _finish_runs_on_shutdown(**kwargs) -> None:
    # A warm shutdown waits for the tasks in progress; the runs outlive their task, so wait for them too (a
    # second signal, or SIGKILL, stops the worker at once: the reaper recovers the runs then).
    if _runs.futures:
        log.info("waiting for %d run(s) in flight to finish", len(_runs.futures))
        while not _runs.wait_idle(60):
            log.info("still waiting for %d run(s) in flight", len(_runs.futures))


_pool: RunPool | None = None
_pool_lock = threading.Lock()


def _batch_pool() -> RunPool:
    global _pool
    with _pool_lock:  # the threads pool's message slots ask for it at once
        if _pool is None:
            _pool = RunPool(settings.WORKER_RUN_THREADS, "trellis-batch")
    return _pool


@shared_task(name="runs.reap", ignore_result=True)
def reap_runs() -> None:
    reap()


@worker_ready.connect
def _start_worker_reaper(sender=None, **kwargs) -> None:
    # Every worker reaps: no beat process is needed for recovery (duplicates are harmless).
    if settings.RUN_REAPER_INTERVAL_S > 0:
        start_reaper_thread()
    settle_heap()  # what the worker loaded to start lives as long as it (trellis/heap.py)


@after_setup_logger.connect
@after_setup_task_logger.connect
def _redact_worker_logs(logger=None, **kwargs) -> None:
    # Celery replaces the root handlers after Django's set-up: filter secrets out of its handlers too.

    for handler in getattr(logger, "handlers", []):
        if not any(isinstance(f, SecretLogFilter) for f in handler.filters):
            handler.addFilter(SecretLogFilter())
