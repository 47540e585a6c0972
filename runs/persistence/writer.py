"""Group commit on SQLite: the hot writes of many runs (a new run, a lease, a step's commit) share one
transaction, made by one writer thread.

SQLite has one write lock per file. With a dozen threads each opening its own write transaction, the losers
sleep in SQLite's busy handler (1, 2, 5, 10… 100 ms between tries) however soon the lock comes free: under a
flood of runs most of the web process's threads sat there, and a webhook's latency was mostly that sleep.
Here the callers hand their write to one thread, which takes everything that piled up while it was busy and
runs it as one transaction, each write in its own savepoint (a write that fails rolls back alone), then
answers every caller once the transaction has committed. The lock changes hands once per batch, with no sleep.

Only for SQLite (PostgreSQL locks rows, not the file), and only for a caller that is not inside a transaction
of its own (its write must stay in that transaction)."""

from __future__ import annotations

import logging
import os
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

_lock = threading.Lock()
_writer: _Writer | None = None


def write(fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)`, committed: on SQLite in the writer thread's next transaction, elsewhere (or inside a
    transaction) here. `fn` runs its statements on `django.db.connection`, whichever thread that is."""
    if connection.vendor != "sqlite" or connection.in_atomic_block or not settings.SQLITE_GROUP_COMMIT:
        return fn(*args)
    return _the_writer().run(fn, args)


def _the_writer() -> _Writer:
    global _writer
    pid = os.getpid()
    if _writer is None or _writer.pid != pid:  # a forked child needs its own thread
        with _lock:
            if _writer is None or _writer.pid != pid:
                _writer = _Writer()
    return _writer


class _Writer:
    def __init__(self) -> None:
        self.pid = os.getpid()
        self.jobs: deque[tuple[Future, Callable, tuple]] = deque()
        self.cond = threading.Condition()
        threading.Thread(target=self._serve, name="trellis-writer", daemon=True).start()

    def run(self, fn: Callable, args: tuple):
        future: Future = Future()
        with self.cond:
            self.jobs.append((future, fn, args))
            self.cond.notify()
        return future.result()

    def _serve(self) -> None:
        while True:
            with self.cond:
                while not self.jobs:
                    self.cond.wait()
                batch = [self.jobs.popleft() for _ in range(min(len(self.jobs), MAX_BATCH))]
            self._commit(batch)

    def _commit(self, batch: list[tuple[Future, Callable, tuple]]) -> None:
        outcomes: list[tuple[Future, Any, BaseException | None]] = []
        try:
            with transaction.atomic():
                for future, fn, args in batch:
                    try:
                        with transaction.atomic():  # a savepoint: this write alone rolls back if it fails
                            outcomes.append((future, fn(*args), None))
                    except Exception as exc:
                        outcomes.append((future, None, exc))
        except Exception as exc:
            # The transaction itself failed (the file, the disk): nothing of the batch is stored.
            log.exception("group commit of %d write(s) failed", len(batch))
            connection.close()
            for future, _, _ in batch:
                future.set_exception(exc)
            return
        for future, result, error in outcomes:
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)
