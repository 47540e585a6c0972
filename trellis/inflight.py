"""`InFlight`: the futures of background work a process started and has not finished (in-process runs, knowledge
ingestion, budget alerts), so that tests can wait for it before they empty the database: work still writing
there would deadlock with the TRUNCATE."""

from __future__ import annotations

import time
from concurrent.futures import Future, wait


class InFlight:
    def __init__(self) -> None:
        self.futures: set[Future] = set()

    def add(self, future: Future) -> Future:
        self.futures.add(future)
        future.add_done_callback(self.futures.discard)
        return future

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until none is left (work may start more work, so this waits again until none is). True when
        idle."""
        deadline = time.monotonic() + timeout_s
        while self.futures:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            wait(list(self.futures), timeout=left)
        return True
