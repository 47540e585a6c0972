"""Group commit on SQLite: the hot writes of many runs (a new run, a lease, a step's commit) share one
transaction.

SQLite has one write lock per file. With a dozen threads each opening its own write transaction, the losers
sleep in SQLite's busy handler (1, 2, 5, 10… 100 ms between tries) however soon the lock comes free: under a
flood of runs most of the web process's threads sat there, and a webhook's latency was mostly that sleep.
Here a thread that wants to write queues its write, then waits for the process's commit lock; whoever holds it
takes everything queued so far and runs it as one transaction, each write in its own savepoint (a write that
fails rolls back alone), and answers each writer once the transaction has committed. A write whose thread finds
the lock free (the usual case when the process is quiet) runs at once on that thread: no hand-off.

Only for SQLite (PostgreSQL locks rows, not the file), and only for a caller that is not inside a transaction
of its own (its write must stay in that transaction)."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, transaction

log = logging.getLogger("trellis.persistence")

T = TypeVar("T")
MAX_BATCH = 200  # writes per transaction: bounds how long one commit keeps the others waiting

_queue: deque[tuple[Future, Callable, tuple]] = deque()
_queue_lock = threading.Lock()
_commit_lock = threading.Lock()  # one transaction at a time; its holder commits for everyone queued
_grouped = threading.local()  # .active: this thread runs a write inside the group's savepoint for it


def write(fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)`, committed: on SQLite in the next group transaction, elsewhere (or inside a transaction)
    here. `fn` runs its statements on `django.db.connection`, on whichever thread commits the group."""
    if connection.vendor != "sqlite" or connection.in_atomic_block or not settings.SQLITE_GROUP_COMMIT:
        return fn(*args)
    future: Future = Future()
    with _queue_lock:
        _queue.append((future, fn, args))
    while not future.done():
        with _commit_lock:
            if future.done():  # the holder before us committed it
                break
            with _queue_lock:
                batch = [_queue.popleft() for _ in range(min(len(_queue), MAX_BATCH))]
            _commit(batch)
    return future.result()


def atomic() -> contextlib.AbstractContextManager:
    """The transaction a write's statements need to be all or nothing. In a group commit the write already has a
    savepoint of its own, which rolls back if it raises: a second one inside it would cost two more statements
    (and Django's savepoint bookkeeping) for nothing."""
    if getattr(_grouped, "active", False):
        return contextlib.nullcontext()
    return transaction.atomic()


def _commit(batch: list[tuple[Future, Callable, tuple]]) -> None:
    outcomes: list[tuple[Future, Any, BaseException | None]] = []
    try:
        with transaction.atomic():
            for future, fn, args in batch:
                try:
                    with transaction.atomic():  # a savepoint: this write alone rolls back if it fails
                        _grouped.active = True
                        try:
                            result = fn(*args)
                        finally:
                            _grouped.active = False
                    outcomes.append((future, result, None))
                except Exception as exc:
                    outcomes.append((future, None, exc))
    except BaseException as exc:
        # The transaction itself failed (the file, the disk), or the thread is going down: nothing of the batch
        # is stored, and every writer in it hears so (none may wait for an answer that never comes).
        log.exception("group commit of %d write(s) failed", len(batch))
        for future, _, _ in batch:
            future.set_exception(exc if isinstance(exc, Exception) else RuntimeError("the group commit was cut off"))
        if not isinstance(exc, Exception):
            raise
        return
    for future, result, error in outcomes:
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)
