"""The process's engine: one per process (one lease owner), made on first use by the in-process executor
(runs/dispatch.py) or a Celery worker's tasks (runs/tasks.py)."""

from __future__ import annotations

import os
import socket

from runs.engine.core import Engine, Limits
from runs.persistence.engine import DjangoStore

_engine = None


def engine():
    """The process's engine (one lease owner per process)."""
    return _get_engine()


def _get_engine():
    global _engine
    if _engine is None:
        owner = f"{socket.gethostname()}-{os.getpid()}"
        _engine = Engine(DjangoStore(), Limits.from_settings(), owner=owner)
    return _engine


def run_advance_now(run_id: str) -> str | None:
    """The one entry both dispatchers use."""
    return _get_engine().advance(str(run_id))
