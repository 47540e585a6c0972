"""Hands ingestion to whoever runs it: a Celery task on the workers in queue mode, or one background
thread inside the web process in default mode (SQLite has one writer anyway). Like run dispatch
(runs/dispatch.py), the job takes a knowledge base id and drains its queue."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connections, transaction

from trellis.inflight import InFlight

log = logging.getLogger("trellis.knowledge")

_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()
_scheduled: set[str] = set()  # knowledge bases with a job submitted and not started yet
_in_flight = InFlight()


def dispatch_ingest_on_commit(kb_id) -> None:
    transaction.on_commit(lambda: dispatch_ingest(kb_id))


def dispatch_ingest(kb_id) -> None:
    kb_id = str(kb_id)
    if settings.TRELLIS_EXECUTOR == "celery":
        from knowledge.tasks import ingest

        ingest.delay(kb_id)
        return
    global _pool
    with _lock:
        if kb_id in _scheduled:
            return  # a job that has not started yet will see this file too
        _scheduled.add(kb_id)
        if _pool is None:
            _pool = ThreadPoolExecutor(1, thread_name_prefix="trellis-ingest")
        future = _pool.submit(_inline_ingest, kb_id)
        _in_flight.add(future)


def _inline_ingest(kb_id: str) -> None:
    from knowledge.services import ingest_pending

    with _lock:
        _scheduled.discard(kb_id)
    try:
        ingest_pending(knowledge_base_id=kb_id)
    except Exception:
        log.exception("knowledge base %s: ingestion failed; queued files wait for the next job", kb_id)
    finally:
        connections.close_all()


def inline_wait_idle(timeout_s: float) -> bool:
    """True once no ingestion job is queued or running in this process (tests wait on it)."""
    return _in_flight.wait_idle(timeout_s)
