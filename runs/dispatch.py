"""Hands a run to whoever executes it: the in-process thread pool (default mode) or a Celery worker.

Both call the same `runs.tasks.run_advance_now(run_id)`. The reaper (`reap`) re-dispatches runs whose
lease expired (a dead worker), queued runs nobody picked up, and waiting runs whose approval timed out.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connections
from django.db.models import Q
from django.utils import timezone

log = logging.getLogger("trellis.dispatch")

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_reaper_started = False


def dispatch_run(run_id) -> None:
    """Start advancing a run. Call it on transaction commit."""
    if settings.TRELLIS_EXECUTOR == "celery":
        from runs.tasks import run_advance

        run_advance.delay(str(run_id))
        return
    _inline_pool().submit(_inline_advance, str(run_id))


def _inline_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(settings.INLINE_EXECUTOR_THREADS, thread_name_prefix="trellis-run")
        return _pool


def _inline_advance(run_id: str) -> None:
    from runs.tasks import run_advance_now

    try:
        run_advance_now(run_id)
    except Exception:
        log.exception("run %s: inline advance failed", run_id)
    finally:
        connections.close_all()


def reap(*, now: dt.datetime | None = None) -> list[str]:
    """Runs that need a worker and have none; dispatches each again. Returns their ids."""
    from runs.models import Run, RunStatus

    now = now or timezone.now()
    queued_grace = now - dt.timedelta(seconds=getattr(settings, "RUN_QUEUED_GRACE_S", 60))
    free = Q(lease_owner__isnull=True) | Q(lease_expires_at__lt=now)
    stuck = (
        Q(status=RunStatus.RUNNING, lease_expires_at__lt=now)
        | Q(status=RunStatus.RUNNING, lease_owner__isnull=True)
        | (Q(status=RunStatus.QUEUED, created_at__lt=queued_grace) & free)
        | (Q(status=RunStatus.WAITING, wake_at__lte=now) & free)
    )
    ids = [str(pk) for pk in Run.objects.filter(stuck).values_list("pk", flat=True)[:500]]
    for run_id in ids:
        log.info("reaper: dispatching run %s again", run_id)
        dispatch_run(run_id)
    return ids


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
    interval = interval_s or getattr(settings, "RUN_REAPER_INTERVAL_S", 15)
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
