"""Listeners told of a run's end, inside the transaction that makes it terminal (chat, evals, callbacks)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from runs.models import Run

log = logging.getLogger("trellis.runs")

# Called with the Run inside the transaction that makes it terminal: what they write commits with the run's
# end, so a process that dies right after that commit cannot lose it (a callback's first attempt). Work
# for after the commit goes through `transaction.on_commit`. A listener that writes does so in its own
# savepoint (`transaction.atomic()`), so that its failure cannot undo the run's end; most runs need no
# write at all, and a savepoint for every run would cost two more round trips each.
RUN_FINISHING_LISTENERS: list[Callable[[Run], None]] = []


def notify_finishing(run_id, run: Run | None = None) -> None:
    if not RUN_FINISHING_LISTENERS:
        return
    if run is None:
        run = Run.objects.get(pk=run_id)
    for listener in list(RUN_FINISHING_LISTENERS):
        try:
            listener(run)
        except Exception:
            log.exception("run-finishing listener %r failed for run %s", listener, run_id)
