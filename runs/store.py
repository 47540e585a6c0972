"""The engine's Store implemented on the Django ORM: lease on the run row, one transaction per commit."""

from __future__ import annotations

import datetime as dt
import threading

from django.db import connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from runs import events
from runs.engine.store import Commit, CommitResult, LeaseLost, RunSnapshot, StepRecord
from runs.executors.base import NodeError
from runs.models import TERMINAL_STATUSES, Run, RunEvent, RunStatus, Step

_STEP_FIELDS = [
    "status",
    "input",
    "output",
    "error",
    "port",
    "state_updates",
    "wait",
    "started_at",
    "finished_at",
    "duration_ms",
    "usage",
    "order",
    "attempt",
    "iteration",
]


def _record(step: Step) -> StepRecord:
    return StepRecord(
        id=str(step.id),
        node_id=step.node_id,
        node_type=step.node_type,
        attempt=step.attempt,
        iteration=step.iteration,
        status=step.status,
        input=step.input,
        output=step.output,
        error=step.error,
        port=step.port,
        state_updates=step.state_updates or {},
        wait=step.wait,
        started_at=step.started_at,
        finished_at=step.finished_at,
        duration_ms=step.duration_ms,
        usage=step.usage,
        order=step.order,
        persisted=True,
    )


def _row(run_id: str, rec: StepRecord) -> Step:
    return Step(
        id=rec.id,
        run_id=run_id,
        node_id=rec.node_id,
        node_type=rec.node_type,
        **{name: getattr(rec, name) for name in _STEP_FIELDS},
    )


class DjangoStore:
    def acquire(self, run_id: str, owner: str, lease_s: float) -> RunSnapshot | None:
        now = timezone.now()
        taken = (
            Run.objects.filter(pk=run_id, status__in=[RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.WAITING])
            .filter(Q(lease_owner__isnull=True) | Q(lease_expires_at__lt=now))
            .update(lease_owner=owner, lease_expires_at=now + dt.timedelta(seconds=lease_s))
        )
        if not taken:
            return None
        run = Run.objects.get(pk=run_id)
        steps = list(Step.objects.filter(run_id=run_id))
        if run.status == RunStatus.WAITING and not run.cancel_requested:
            due = run.wake_at is not None and run.wake_at <= now
            decided = any(s.order is None and s.status == "succeeded" for s in steps)
            if not (due or decided):
                self.release(run_id, owner)
                return None
        return RunSnapshot(
            id=str(run.pk),
            workspace_id=str(run.workspace_id),
            status=run.status,
            graph=run.graph,
            input=run.input,
            trigger=run.trigger or {},
            created_at=run.created_at,
            started_at=run.started_at,
            timings=run.timings or {},
            usage=run.usage or {},
            cancel_requested=run.cancel_requested,
            step_counter=run.step_counter,
            steps=[_record(s) for s in steps],
        )

    def commit(self, run_id: str, owner: str, lease_s: float, commit: Commit) -> CommitResult:
        fields = dict(commit.run)
        if commit.release:
            fields.update(lease_owner=None, lease_expires_at=None)
        else:
            fields["lease_expires_at"] = timezone.now() + dt.timedelta(seconds=lease_s)
        if commit.step_counter is not None:
            fields["step_counter"] = commit.step_counter
        n_events = len(commit.events)
        if n_events:
            fields["last_seq"] = F("last_seq") + n_events
        resumed = False
        messages = []
        with transaction.atomic():
            if not Run.objects.filter(pk=run_id, lease_owner=owner).update(**fields):
                raise LeaseLost()
            last_seq, cancel_requested = Run.objects.filter(pk=run_id).values_list("last_seq", "cancel_requested").get()
            new = [_row(run_id, r) for r in commit.steps if not r.persisted]
            if new:
                Step.objects.bulk_create(new)
            for rec in commit.steps:
                if rec.persisted:
                    Step.objects.filter(pk=rec.id).update(**{name: getattr(rec, name) for name in _STEP_FIELDS})
            if n_events:
                seq = last_seq - n_events
                rows = []
                for ev in commit.events:
                    seq += 1
                    ts = ev.ts or timezone.now()
                    rows.append(RunEvent(run_id=run_id, seq=seq, type=ev.type, node_id=ev.node_id, data=ev.data, ts=ts))
                    messages.append(
                        events.message(seq=seq, type=ev.type, run_id=run_id, node_id=ev.node_id, ts=ts, data=ev.data)
                    )
                RunEvent.objects.bulk_create(rows)
            if commit.release and fields.get("status") == RunStatus.WAITING:
                # An approval decided while we were still running: go round again instead of waiting.
                if Step.objects.filter(run_id=run_id, order__isnull=True, status="succeeded").exists():
                    Run.objects.filter(pk=run_id).update(status=RunStatus.QUEUED)
                    resumed = True
            if messages:
                transaction.on_commit(lambda: events.broadcast(run_id, messages))
            if fields.get("status") in TERMINAL_STATUSES:
                from runs.services import notify_finished

                transaction.on_commit(lambda: notify_finished(run_id))
        return CommitResult(cancel_requested=cancel_requested, resumed=resumed)

    def heartbeat(self, run_id: str, owner: str, lease_s: float) -> bool:
        updated = Run.objects.filter(pk=run_id, lease_owner=owner).update(
            lease_expires_at=timezone.now() + dt.timedelta(seconds=lease_s)
        )
        if not updated:
            raise LeaseLost()
        return Run.objects.filter(pk=run_id).values_list("cancel_requested", flat=True).get()

    def release(self, run_id: str, owner: str) -> None:
        Run.objects.filter(pk=run_id, lease_owner=owner).update(lease_owner=None, lease_expires_at=None)

    def resolve_secret(self, workspace_id: str, name: str) -> str:
        from accounts.services import secret_value
        from trellis.errors import ApplicationError

        try:
            return secret_value(workspace_id=workspace_id, name=name)
        except ApplicationError as exc:
            raise NodeError(exc.message, code=exc.code) from None

    def broadcast_delta(self, run_id: str, node_id: str, data: dict) -> None:
        msg = events.message(seq=None, type=events.DELTA, run_id=run_id, node_id=node_id, ts=timezone.now(), data=data)
        events.broadcast(run_id, [msg])

    def thread_cleanup(self) -> None:
        """Close the DB connection of a helper thread (pool or heartbeat) when it is done."""
        if threading.current_thread() is not threading.main_thread():
            for conn in connections.all(initialized_only=True):
                if not conn.in_atomic_block:
                    conn.close()
