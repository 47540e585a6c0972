"""Which runs this process advances at once: a cap per process and a cap per workspace, fair between workspaces.

A run over a cap waits here, never dropped: it stays `queued` in the database, its lease held by this process
and kept alive by the heartbeat thread (a worker killed meanwhile loses nothing: the reaper sends the run again
once the lease expires). When a run ends, its slot goes to the next waiting run, the workspaces with waiting runs
taking turns (round robin). So one workspace's flood queues behind its own cap while another workspace's runs
start at once, and a process never holds more runs in memory than it can carry.

In queue mode the caps are per worker process: a workspace may have `per_workspace` runs active on each one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(eq=False)
class Ticket:
    """A run that asked for a slot; `start` is called once, when it gets one."""

    workspace_id: str
    start: Callable[[], None]
    started: bool = False


class Admission:
    def __init__(self, max_active: int, per_workspace: int):
        self.max_active = max_active
        self.per_workspace = per_workspace
        self.lock = threading.Lock()
        self.total = 0
        self.active: dict[str, int] = {}
        # workspace -> its waiting tickets in arrival order; the dict's order is the round-robin turn.
        self.waiting: OrderedDict[str, deque[Ticket]] = OrderedDict()

    def admit(self, workspace_id: str, start: Callable[[], None]) -> Ticket:
        """Start the run now (`start()`) if the caps allow it, else queue it. Every started ticket must be
        given back with `release` once its run's advance is over."""
        ticket = Ticket(workspace_id, start)
        with self.lock:
            go = not self.waiting.get(workspace_id) and self._fits(workspace_id)
            if go:
                self._take(ticket)
            else:
                self.waiting.setdefault(workspace_id, deque()).append(ticket)
        if go:
            ticket.start()
        return ticket

    def expedite(self, ticket: Ticket) -> None:
        """Start a waiting run now, over the caps: it was cancelled or lost its lease, and ending it costs
        next to nothing."""
        with self.lock:
            if ticket.started:
                return
            queue = self.waiting.get(ticket.workspace_id)
            if queue is not None and ticket in queue:
                queue.remove(ticket)
                if not queue:
                    del self.waiting[ticket.workspace_id]
            self._take(ticket)
        ticket.start()

    def release(self, ticket: Ticket) -> None:
        """The ticket's run is over here: its slot goes to the next waiting run, workspaces taking turns."""
        starting: list[Ticket] = []
        with self.lock:
            self.total -= 1
            left = self.active[ticket.workspace_id] - 1
            if left:
                self.active[ticket.workspace_id] = left
            else:
                del self.active[ticket.workspace_id]
            while self.total < self.max_active:
                nxt = self._next_turn()
                if nxt is None:
                    break
                self._take(nxt)
                starting.append(nxt)
        for nxt in starting:
            nxt.start()

    def counts(self) -> tuple[int, int]:
        """(runs active, runs waiting) in this process."""
        with self.lock:
            return self.total, sum(len(q) for q in self.waiting.values())

    # --- under the lock ------------------------------------------------------------------------

    def _fits(self, workspace_id: str) -> bool:
        return self.total < self.max_active and self.active.get(workspace_id, 0) < self.per_workspace

    def _take(self, ticket: Ticket) -> None:
        ticket.started = True
        self.total += 1
        self.active[ticket.workspace_id] = self.active.get(ticket.workspace_id, 0) + 1

    def _next_turn(self) -> Ticket | None:
        """The first waiting run of the first workspace (in turn order) under its cap; that workspace goes to
        the back of the turn order."""
        for workspace_id, queue in self.waiting.items():
            if self.active.get(workspace_id, 0) < self.per_workspace:
                ticket = queue.popleft()
                if queue:
                    self.waiting.move_to_end(workspace_id)
                else:
                    del self.waiting[workspace_id]
                return ticket
        return None
