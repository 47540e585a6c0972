"""One thread per process keeps the leases of every parked run alive, in batches, and passes on cancels.

A run waiting on a model call holds no thread (runs/engine/session.py), so its lease cannot be renewed by a
thread of its own: a thousand runs in flight would be a thousand threads and database connections. Here the
leases of all of them are checked (a cancel, a lease taken over) with a read per interval, and extended with a
few statements each third of a lease.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runs.engine.session import Session

log = logging.getLogger("trellis.engine")


class Heartbeats:
    def __init__(self) -> None:
        self.sessions: dict[int, Session] = {}
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def add(self, session: Session) -> None:
        with self.lock:
            self.sessions[id(session)] = session
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._loop, name="trellis-heartbeat", daemon=True)
                self.thread.start()

    def remove(self, session: Session) -> None:
        with self.lock:
            self.sessions.pop(id(session), None)

    def _loop(self) -> None:
        while True:
            with self.lock:
                sessions = list(self.sessions.values())
            interval = min((_interval(s) for s in sessions), default=1.0)
            time.sleep(interval)
            now = time.monotonic()
            due = [s for s in sessions if now - s.last_beat >= _interval(s) * 0.9 and not s.closed]
            groups: dict[tuple[int, float], list[Session]] = {}
            for s in due:
                groups.setdefault((id(s.store), s.limits.lease_s), []).append(s)
            for group in groups.values():
                self._beat(group)

    def _beat(self, group: list[Session]) -> None:
        """Check every run of the group for a cancel or a lost lease; extend the leases a third through."""
        store = group[0].store
        now = time.monotonic()
        extend = {s.run_id for s in group if now - s.lease_extended_at >= s.limits.lease_s / 3.0 * 0.9}
        try:
            cancelled, lost = store.heartbeat_many(
                [(s.run_id, s.owner) for s in group], group[0].limits.lease_s, extend
            )
        except Exception:
            log.exception("could not check the leases of %d run(s)", len(group))
            return
        for s in group:
            s.last_beat = now
            if s.run_id in lost:
                s.lease_lost = True
                s.cancel_event.set()
            else:
                if s.run_id in extend:
                    s.lease_extended_at = now
                if s.run_id in cancelled:
                    s.cancel_event.set()


def _interval(session: Session) -> float:
    limits = session.limits
    return limits.heartbeat_s or max(0.05, min(limits.lease_s / 3.0, 1.0))


HEARTBEATS = Heartbeats()
