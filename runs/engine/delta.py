"""`Delta`: coalesces a step's streamed text so listeners get at most one live message per interval."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("trellis.engine")


@dataclass
class Delta:
    """Coalesces streamed text so listeners get at most one message per interval per step."""

    session: Any
    node_id: str
    step_id: str
    buffer: list[str] = field(default_factory=list)
    last: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def emit(self, text: str) -> None:
        if not text:
            return
        with self.lock:
            self.buffer.append(text)
            if time.monotonic() - self.last >= self.session.limits.delta_interval_s:
                self._flush_locked()

    def flush(self) -> None:
        with self.lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if not self.buffer:
            return
        text = self.session.redactor.text("".join(self.buffer))
        self.buffer.clear()
        self.last = time.monotonic()
        try:
            self.session.store.broadcast_delta(
                self.session.run_id, self.node_id, {"step_id": self.step_id, "text": text}
            )
        except Exception:  # a lost live message never fails a step
            log.exception("could not broadcast a step delta")
