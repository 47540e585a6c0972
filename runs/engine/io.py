"""The process's I/O event loop: node executors that wait on the network (models, HTTP) run here as
coroutines, so a thousand calls in flight cost a thousand small tasks, not a thousand threads.

One loop per process, in a daemon thread, started on first use (and again in a forked child). The engine
hands it coroutines with `submit` and gets `concurrent.futures.Future`s back; nothing on the loop touches
the database (the engine's threads do that, see runs/engine/session.py).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

BLOCKING_THREADS = 32

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_pid: int | None = None


def loop() -> asyncio.AbstractEventLoop:
    global _loop, _pid
    if _loop is None or _pid != os.getpid():
        with _lock:
            if _loop is None or _pid != os.getpid():
                new = asyncio.new_event_loop()
                # asyncio.to_thread's pool: what async executors must not do on the loop (database reads and
                # writes, DNS). Its threads keep their database connections.
                new.set_default_executor(ThreadPoolExecutor(BLOCKING_THREADS, thread_name_prefix="trellis-io-blocking"))
                ready = threading.Event()

                def serve() -> None:
                    asyncio.set_event_loop(new)
                    new.call_soon(ready.set)
                    new.run_forever()

                threading.Thread(target=serve, name="trellis-io", daemon=True).start()
                ready.wait()
                _loop, _pid = new, os.getpid()
    return _loop


def submit(coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future:
    """Run `coro` on the I/O loop. Cancelling the returned future cancels the task (and its HTTP call)."""
    return asyncio.run_coroutine_threadsafe(coro, loop())


class Timer:
    """A callback on the I/O loop after a delay; `cancel()` from any thread.

    Cancelling takes no hop onto the loop (a thousand parked runs cancel theirs as they wake): it drops the callback,
    and the spent handle fires as a no-op when it comes due (at most a park check later, holding nothing)."""

    def __init__(self, delay_s: float, callback: Callable[[], None]):
        self._callback: Callable[[], None] | None = callback
        the_loop = loop()
        the_loop.call_soon_threadsafe(the_loop.call_later, max(0.0, delay_s), self._fire)

    def _fire(self) -> None:
        callback = self._callback
        if callback is not None:
            callback()

    def cancel(self) -> None:
        self._callback = None
