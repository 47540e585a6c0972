"""Listeners told of a run's end, inside the transaction that makes it terminal (chat, evals, callbacks)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from runs.models import Run

log = logging.getLogger("trellis.runs")


@dataclass(frozen=True)
class FinishingListener:
    """`heard(run)` is called with the Run inside the transaction that makes it terminal: what it writes commits
    with the run's end, so a process that dies right after that commit cannot lose it (a callback's first
    attempt). Work for after the commit goes through `transaction.on_commit`. A listener that writes does so in
    its own savepoint (`transaction.atomic()`), so that its failure cannot undo the run's end.

    `concerns(run)` says, from the run alone (its trigger), whether `heard` has anything to do for it. Most runs
    concern no listener: their end is then written without a transaction (one statement on PostgreSQL, no BEGIN
    and COMMIT round trips) and no listener is called."""

    heard: Callable[[Run], None]
    concerns: Callable[[Run], bool]


RUN_FINISHING_LISTENERS: list[FinishingListener] = []


def listen_to_finishing(listener: FinishingListener) -> None:
    """Register once (an app's `ready` may run more than once)."""
    if listener not in RUN_FINISHING_LISTENERS:
        RUN_FINISHING_LISTENERS.append(listener)


def listened_to(run: Run | None) -> bool:
    """Whether a listener is concerned with this run's end (a run not at hand: assume one is)."""
    if run is None:
        return bool(RUN_FINISHING_LISTENERS)
    return any(listener.concerns(run) for listener in RUN_FINISHING_LISTENERS)


def notify_finishing(run_id, run: Run | None = None) -> None:
    if not RUN_FINISHING_LISTENERS:
        return
    if run is None:
        run = Run.objects.get(pk=run_id)
    for listener in list(RUN_FINISHING_LISTENERS):
        try:
            if listener.concerns(run):
                listener.heard(run)
        except Exception:
            log.exception("run-finishing listener %r failed for run %s", listener.heard, run_id)
