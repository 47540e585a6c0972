"""Grouped webhook ingest: the fast path for `POST /hooks/<key>`.

Webhooks that arrive while the previous group is being written are accepted together: one trip to a
database thread, the runs, their first events and their delivery-log lines stored together (one statement on
PostgreSQL, one write of the group commit on SQLite), one hand-over to the dispatcher. The checks are the ones
`webhooks.webhook_receive` makes (`admit`), against a trigger kept per process (`lookup.cached_webhook_trigger`);
a run is stored only where that trigger's rows are still what was read (runs/persistence/webhooks.py).

Answers are the full path's: a refusal is given only once the trigger has been read afresh and found
unchanged, and logged; a repeated idempotency key gets the first run. A call that waits for its result
(`?wait=`, a sync trigger) starts listening to its run (`on_run`) before the group is stored and its runs
dispatched. A call whose trigger changed since it was read is left to `webhook_receive` (FULL_PATH),
which reads the trigger afresh. Every call is checked, and counted by the rate limit, once — except one
that met a changed trigger, which the full path checks (and counts) again.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from runs.dispatch import dispatch_run, lease_new_run
from runs.models import Run
from runs.persistence import deliveries
from runs.persistence.webhooks import insert_group
from runs.services import run_for_idempotency_key, run_prepare
from runs.triggers.lookup import cached_webhook_trigger, forget, webhook_trigger
from runs.triggers.models import Outcome, Trigger
from runs.triggers.threads import in_thread
from runs.triggers.webhooks import Accepted, Admission, InboundRequest, _reject, admit
from trellis.errors import ApplicationError

logger = logging.getLogger(__name__)

# The answer for a call that this path leaves to webhook_receive.
FULL_PATH = None
GROUP_MAX_BYTES = 4 * 1024 * 1024

OnRun = Callable[[object], None]  # on_run(run_id): a waiting caller starts listening to the run


def enabled() -> bool:
    return settings.WEBHOOK_GROUP_MAX > 0


@dataclass
class _Staged:
    """A call that passed its checks, with the rows to store for it."""

    index: int
    request: InboundRequest
    trigger: Trigger
    admission: Admission
    run: Run
    rows: list  # the queued event, then the delivery-log line
    started: float
    on_run: OnRun | None


def accept_group(
    requests: list[InboundRequest], on_runs: list[OnRun | None] | None = None
) -> list[Accepted | ApplicationError | None]:
    """Accept a group of webhook calls (not test calls): per call, an Accepted, the ApplicationError to
    answer, or FULL_PATH. A call that will wait for its result needs its `on_runs` entry (else FULL_PATH)."""
    answers: list[Accepted | ApplicationError | None] = [FULL_PATH] * len(requests)
    on_runs = on_runs or [None] * len(requests)
    staged = []
    for index, (request, on_run) in enumerate(zip(requests, on_runs, strict=True)):
        try:
            item = _stage(index, request, time.monotonic(), on_run)
        except ApplicationError as error:
            answers[index] = error
            continue
        except Exception:
            logger.exception("webhook %s…: left to the full path", request.key[:8])
            continue
        if isinstance(item, _Staged):
            staged.append(item)
        else:
            answers[index] = item
    if staged:
        _store(staged, answers)
    return answers


def _stage(index: int, request: InboundRequest, started: float, on_run: OnRun | None) -> _Staged | Accepted | None:
    """Check one call against the cached trigger and build its rows; None leaves it to the full path.
    Refusals are raised (ApplicationError); a repeat of an accepted call that would be refused now gets its
    first run (Accepted), as in run_start. A waiting call's listener joins its run here, before the store."""

    trigger = cached_webhook_trigger(request.key)
    if trigger is None:  # a miss was read afresh
        raise ApplicationError("not_found", "No such webhook.", status=404)
    admission = None
    try:
        admission = admit(trigger, request)
        if admission.wait_s and on_run is None:
            return None  # nobody to listen to the run: the full path's caller does
        run, queued = run_prepare(
            workflow=trigger.workflow,
            version="published",
            input=admission.run_input,
            trigger=admission.trigger_info,
            idempotency_key=admission.idempotency_key,
        )
    except ApplicationError as error:
        # A refusal stands only if the trigger is as it was read: a re-enabled trigger or a rotated
        # secret must not be refused from the cache. (Checking again would count the call twice.)
        fresh = webhook_trigger(request.key, test=False)
        if fresh is None or fresh.guard != trigger.guard:
            forget(request.key)
            return None
        first = admission and run_for_idempotency_key(trigger.workflow, admission.idempotency_key)
        if first:
            return _repeat(trigger, request, admission, first, started, on_run)
        _reject(trigger, request, error, started)
        raise
    if admission.wait_s:
        on_run(run.pk)  # before the store: the run is dispatched once the group is stored
    lease_new_run(run)
    rows = [queued, admission.log_line(trigger, request, run, started)]
    return _Staged(index, request, trigger, admission, run, rows, started, on_run)


def _store(staged: list[_Staged], answers: list) -> None:
    """Write the group; from then on no call of it goes to the full path, which could store its run twice."""

    stored, current = _insert(staged)
    new = [item for item in staged if item.run.pk in stored]
    try:
        for item in new:
            item.run = stored[item.run.pk]
            admission = item.admission
            answers[item.index] = Accepted(item.trigger.pk, item.run, admission.wait_s, admission.status_code, False)
        for item in staged:
            if item.trigger.pk not in current:
                forget(item.request.key)  # changed since it was read: the full path reads it again
            elif item.run.pk not in stored:
                try:
                    first = run_for_idempotency_key(item.trigger.workflow, item.run.idempotency_key)
                except Exception:  # left to the full path, which finds the first run too (and stores nothing new)
                    logger.exception("webhook %s…: left to the full path", item.request.key[:8])
                    continue
                answers[item.index] = first and _repeat(
                    item.trigger, item.request, item.admission, first, item.started, item.on_run
                )
    finally:
        # Last: a waiting repeat of a run stored in this group listens to it before it starts.
        transaction.on_commit(lambda: [_dispatch(item) for item in new], robust=True)


def _dispatch(item: _Staged) -> None:
    dispatch_run(item.run.pk, caller_waits=bool(item.admission.wait_s), stored=item.run)


def _repeat(trigger, request, admission, first: Run, started: float, on_run: OnRun | None) -> Accepted:
    """A repeated idempotency key: the first run (a waiting caller listens to it), and a `duplicate` line
    in the log."""
    if admission.wait_s:
        try:
            on_run(first.pk)
        except Exception:  # still answered: without the run's events, the wait falls back to polling it
            logger.exception("webhook %s…: could not listen to run %s", request.key[:8], first.pk)
    try:
        deliveries.add(admission.log_line(trigger, request, first, started, Outcome.DUPLICATE))
    except Exception:  # the answer matters more than its log line
        logger.exception("webhook %s…: the duplicate's log line was not stored", request.key[:8])
    return Accepted(trigger.pk, first, admission.wait_s, admission.status_code, duplicate=True)


def _insert(staged: list[_Staged]) -> tuple[dict, set]:
    """Store the staged runs with their rows; returns ({id: run as stored} of the runs stored, ids of the
    triggers found unchanged)."""
    guards = {item.trigger.pk: item.trigger.guard for item in staged}
    return insert_group(guards, [(item.run, item.trigger.pk, *item.rows) for item in staged])


class Grouper:
    """Per process, on the event loop: calls that arrive while a group is being written wait and go
    together in the next one. A lone call is written at once (no added latency)."""

    def __init__(self):
        self.waiting: list[tuple[InboundRequest, OnRun | None, asyncio.Future]] = []
        self.in_flight = 0

    async def accept(self, request: InboundRequest, on_run: OnRun | None) -> Accepted | ApplicationError | None:
        future = asyncio.get_running_loop().create_future()
        self.waiting.append((request, on_run, future))
        if self.in_flight < settings.WEBHOOK_GROUPS_IN_FLIGHT:
            self._write_next()
        return await future

    def _write_next(self) -> None:
        size, total = 0, 0
        for request, _on_run, _future in self.waiting[: settings.WEBHOOK_GROUP_MAX]:
            total += request.content_length or 0
            size += 1
            if total >= GROUP_MAX_BYTES:  # one statement's parameters stay a few MB, whatever the bodies
                break
        group, self.waiting = self.waiting[:size], self.waiting[size:]
        self.in_flight += 1
        requests, on_runs = [item[0] for item in group], [item[1] for item in group]
        task = asyncio.ensure_future(in_thread(accept_group)(requests, on_runs))
        task.add_done_callback(lambda done: self._written(group, done))

    def _written(self, group, done: asyncio.Future) -> None:
        self.in_flight -= 1
        error = done.exception()
        answers = done.result() if error is None else [FULL_PATH] * len(group)  # the full path tries again
        for (_request, _on_run, future), answer in zip(group, answers, strict=True):
            if not future.done():
                future.set_result(answer)
        if error is not None:  # the statement is atomic: nothing of the group was stored
            logger.error("grouped webhook ingest failed", exc_info=error)
        if self.waiting:
            self._write_next()


_groupers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def accept(request: InboundRequest, on_run: OnRun | None = None) -> Accepted | ApplicationError | None:
    """Accept one call with the others of its group: an Accepted, an ApplicationError, or FULL_PATH.
    `on_run(run_id)` is called, from a database thread, with the run a waiting call is to listen to."""
    loop = asyncio.get_running_loop()
    grouper = _groupers.get(loop)
    if grouper is None:  # one per event loop: its futures belong to that loop
        grouper = _groupers[loop] = Grouper()
    return await grouper.accept(request, on_run)
