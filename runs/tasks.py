"""Celery tasks: thin, safe to repeat. `run_advance` takes a run id; the lease makes duplicates no-ops."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import after_setup_logger, after_setup_task_logger, worker_ready
from django.conf import settings

log = logging.getLogger("trellis.tasks")

_engine = None


def _get_engine():
    global _engine
    if _engine is None:
        import socket

        import runs.executors  # noqa: F401 - registers every node type
        from runs.engine.core import Engine, Limits
        from runs.store import DjangoStore

        owner = f"{socket.gethostname()}-{__import__('os').getpid()}"
        _engine = Engine(DjangoStore(), Limits.from_settings(), owner=owner)
    return _engine


def run_advance_now(run_id: str) -> str | None:
    """The one entry both dispatchers use."""
    return _get_engine().advance(str(run_id))


@shared_task(name="runs.run_advance", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_advance(run_id: str) -> None:
    run_advance_now(run_id)


@shared_task(name="runs.reap", ignore_result=True)
def reap_runs() -> None:
    from runs.dispatch import reap

    reap()


@worker_ready.connect
def _start_worker_reaper(sender=None, **kwargs) -> None:
    # Every worker reaps: no beat process is needed for recovery (duplicates are harmless).
    if getattr(settings, "RUN_REAPER_INTERVAL_S", 15) > 0:
        from runs.dispatch import start_reaper_thread

        start_reaper_thread()


@after_setup_logger.connect
@after_setup_task_logger.connect
def _redact_worker_logs(logger=None, **kwargs) -> None:
    # Celery replaces the root handlers after Django's set-up: filter secrets out of its handlers too.
    from runs.redaction import SecretLogFilter

    for handler in getattr(logger, "handlers", []):
        if not any(isinstance(f, SecretLogFilter) for f in handler.filters):
            handler.addFilter(SecretLogFilter())
