"""`RunPool`: the few threads that do the engine's database work, runs in flight first.

A plain thread pool serves its queue in arrival order: under a flood of new runs, the step of a run whose model
has just answered waited behind the start (a lease, a snapshot) of every run that arrived before, so the runs
already in flight finished later and later. Here work for runs in flight (`submit`) goes ahead of starting new
ones (`submit_later`), and all the work of a run that a caller is waiting on (`submit_urgent`: a synchronous
webhook, a chat message, a streamed completion) goes ahead of both: when hundreds of model calls answered at
once, a synchronous webhook's few quick steps waited behind all of them. Each kind stays in arrival order.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

URGENT, NOW, LATER = 0, 1, 2


class RunPool:
    def __init__(self, threads: int, name: str):
        self.queues: tuple[deque, deque, deque] = (deque(), deque(), deque())
        self.cond = threading.Condition()
        for i in range(threads):
            threading.Thread(target=self._serve, name=f"{name}_{i}", daemon=True).start()

    def submit_urgent(self, fn: Callable, *args: Any, **kwargs: Any) -> Future:
        """Work of a run a caller is waiting on (starting it too): before anything else."""
        return self._put(URGENT, fn, args, kwargs)

    def submit(self, fn: Callable, *args: Any, **kwargs: Any) -> Future:
        """Work of a run in flight (a step to take, a commit, a blocking call): before any new run starts."""
        return self._put(NOW, fn, args, kwargs)

    def submit_later(self, fn: Callable, *args: Any, **kwargs: Any) -> Future:
        """Starting a new run: after the work of the runs in flight."""
        return self._put(LATER, fn, args, kwargs)

    def _put(self, kind: int, fn: Callable, args: tuple, kwargs: dict) -> Future:
        future: Future = Future()
        with self.cond:
            self.queues[kind].append((future, fn, args, kwargs))
            self.cond.notify()
        return future

    def _serve(self) -> None:
        urgent, now, later = self.queues
        while True:
            with self.cond:
                while not urgent and not now and not later:
                    self.cond.wait()
                future, fn, args, kwargs = (urgent or now or later).popleft()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # the caller sees it on the future, as with ThreadPoolExecutor
                future.set_exception(exc)
