"""Celery tasks: thin, safe to repeat. `run_advance` takes a run id; the lease makes duplicates no-ops."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import wait

from celery import shared_task
from celery.signals import after_setup_logger, after_setup_task_logger, worker_ready
from django.conf import settings

from runs.dispatch import reap, start_reaper_thread
from runs.engine.pool import RunPool
from runs.persistence.engine import holder_name
from runs.process_engine import engine
from runs.redaction import SecretLogFilter

log = logging.getLogger("trellis.tasks")


@shared_task(name="runs.run_advance", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_advance(run_id: str) -> None:
    # The task (and its acks_late message) lasts until the run's advance is over; the run itself holds a thread
    # of the batch pool only while it has work, not while its nodes wait on the network.
    pool = _batch_pool()
    engine().advance_async(str(run_id), pool.submit, pool.submit_later).result()


@shared_task(name="runs.run_advance_many", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_advance_many(run_ids: list[str]) -> None:
    """Several runs sent in one message (see runs.dispatch): advanced side by side, their steps on a few
    threads, so a run that waits on an LLM does not hold up the quick ones behind it. The runs not started yet
    are held (a lease of this process, renewed while they wait): if the worker is killed, the reaper
    sends them again as soon as the hold expires. The broker redelivers the whole message later (acks_late);
    runs already finished or taken are skipped then (the lease check)."""
    process_engine = engine()
    holder = holder_name(process_engine.owner)
    lease_s = process_engine.limits.lease_s
    pool = _batch_pool()
    try:
        # On the batch pool's threads, like every database write of the runs: with the threads pool a worker has
        # dozens of message slots, and each would otherwise open a database connection of its own.
        pool.submit(process_engine.store.hold, run_ids, holder, lease_s).result()
    except Exception:
        # Only recovery gets slower (these runs wait for their queued grace instead of the hold's expiry).
        log.exception("could not hold %d run(s)", len(run_ids))
    # Every run starts at once: a run waiting on a model call parks and gives its thread to the others.
    futures = [process_engine.advance_async(str(run_id), pool.submit, pool.submit_later) for run_id in run_ids]
    while wait(futures, timeout=lease_s / 3).not_done:
        try:
            pool.submit(process_engine.store.renew_holds, run_ids, holder, lease_s).result()
        except Exception:
            log.exception("could not renew the holds of %d run(s)", len(run_ids))


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


@after_setup_logger.connect
@after_setup_task_logger.connect
def _redact_worker_logs(logger=None, **kwargs) -> None:
    # Celery replaces the root handlers after Django's set-up: filter secrets out of its handlers too.

    for handler in getattr(logger, "handlers", []):
        if not any(isinstance(f, SecretLogFilter) for f in handler.filters):
            handler.addFilter(SecretLogFilter())
