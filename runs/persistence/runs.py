"""Creating runs and publishing their events outside the engine's commits."""

from __future__ import annotations

from functools import lru_cache

from django.db import connection
from django.db.models import F
from django.utils import timezone

from runs.models import Run, RunEvent, RunStatus, Step, StepStatus
from runs.persistence import sql
from runs.persistence.writer import atomic, write


def queued_event(run: Run) -> RunEvent:
    """A new run's first event (seq 1: `Run.last_seq` starts at 1 for it)."""
    return RunEvent(run=run, seq=1, type="run.status", data={"status": RunStatus.QUEUED}, ts=timezone.now())


@lru_cache(maxsize=32)
def _insert_together(primary, dependents: tuple, vendor: str) -> str:
    fields = sql.insert_fields(primary)
    statement = [
        f"WITH p AS (INSERT INTO {sql.table(primary)} ({sql.columns(primary)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT DO NOTHING RETURNING 1)"
    ]
    for i, model in enumerate(dependents):
        # INSERT … SELECT does not coerce untyped parameters like VALUES does: cast each to its column type.
        casts = ", ".join(f"%s::{kind}" for kind in sql.casts(sql.insert_fields(model)))
        statement.append(
            f", d{i} AS (INSERT INTO {sql.table(model)} ({sql.columns(model)}) "
            f"SELECT {casts} WHERE EXISTS (SELECT 1 FROM p))"
        )
    statement.append(" SELECT count(*) FROM p")
    return "".join(statement)


def insert_run(run: Run, rows: list) -> Run | None:
    """Store a new run with the rows that belong to it (its first event, a delivery-log line): all of them, or
    nothing when the run's idempotency key was seen before (None). Returns the run as stored.

    Through the ORM that is a BEGIN, several INSERTs and a COMMIT, and building the SQL costs more CPU than
    the database spends running it: on PostgreSQL it is one statement of data-modifying CTEs (atomic by
    itself), which bench/bench_webhooks.py showed to pay; on SQLite hand-written INSERTs in the writer
    thread's transaction (runs/persistence/writer.py). The rows' primary keys (UUIDs) are set beforehand."""
    if not sql.is_postgresql():
        return write(insert_each, run, rows)
    params = []
    for obj in (run, *rows):
        params += sql.values_of(obj)
    statement = _insert_together(Run, tuple(type(obj) for obj in rows), connection.vendor)
    with sql.cursor() as cursor:
        cursor.execute(statement, params, prepare=True)
        inserted = cursor.fetchone()[0] == 1
    return sql.loaded(Run, run) if inserted else None


@lru_cache(maxsize=16)
def _insert_one(model, ignore_conflict: bool) -> str:
    fields = sql.insert_fields(model)
    values = ", ".join(["%s"] * len(fields))
    tail = " ON CONFLICT DO NOTHING" if ignore_conflict else ""
    return f"INSERT INTO {sql.table(model)} ({sql.columns(model)}) VALUES ({values}){tail}"


def insert_each(run: Run, rows: list) -> Run | None:
    """insert_run where one statement cannot do it all (SQLite): an INSERT per row, all or nothing (`atomic`: in a
    group commit, the write's own savepoint)."""
    with atomic(), connection.cursor() as cursor:
        cursor.execute(_insert_one(Run, True), sql.values_of(run))
        if cursor.rowcount != 1:
            return None
        for obj in rows:
            cursor.execute(_insert_one(type(obj), False), sql.values_of(obj))
    return sql.loaded(Run, run)


def insert_copy(fields: dict, keep: list[Step]) -> Run:
    """A new queued run (a rerun) with copies of the finished steps it starts from. In the caller's transaction."""
    new = Run.objects.create(last_seq=1, step_counter=max((s.order or 0 for s in keep), default=0), **fields)
    RunEvent.objects.create(run=new, seq=1, type="run.status", data={"status": RunStatus.QUEUED}, ts=new.created_at)
    copied = {f.attname for f in Step._meta.concrete_fields} - {Step._meta.pk.attname, "run_id", "wait"}
    Step.objects.bulk_create([Step(run=new, **{name: getattr(s, name) for name in copied}) for s in keep])
    return new


def append_event(run_id, *, type: str, node_id: str | None, data: dict, ts) -> int:  # noqa: A002
    """Store one event with the run's next sequence number (taken under the run row's lock); returns it.
    In the caller's transaction."""
    Run.objects.filter(pk=run_id).update(last_seq=F("last_seq") + 1)
    seq = Run.objects.filter(pk=run_id).values_list("last_seq", flat=True).get()
    RunEvent.objects.create(run_id=run_id, seq=seq, type=type, node_id=node_id, data=data, ts=ts)
    return seq


def request_cancel(run_id) -> None:
    """Flag a run that a worker holds: the worker stops it (in-flight calls abort)."""
    Run.objects.filter(pk=run_id).update(cancel_requested=True)


def cancel_steps(run_id, now) -> list[Step]:
    """Mark the run's waiting and running steps cancelled; returns them. In the caller's transaction."""
    steps = list(Step.objects.filter(run_id=run_id, status__in=[StepStatus.WAITING, StepStatus.RUNNING]))
    for step in steps:
        step.status, step.finished_at = StepStatus.CANCELLED, now
        step.save(update_fields=["status", "finished_at"])
    return steps


def mark_cancelled(run_id, error: dict, now) -> None:
    """End a run that no worker holds as cancelled (and release any hold on it)."""
    Run.objects.filter(pk=run_id).update(
        status=RunStatus.CANCELLED,
        cancel_requested=True,
        error=error,
        finished_at=now,
        wake_at=None,
        lease_owner=None,
        lease_expires_at=None,
    )


def decide_step(step: Step, *, port: str, output: dict, now) -> None:
    """Finish a waiting approval step with the decision's port and output."""
    step.status, step.port, step.output, step.finished_at = StepStatus.SUCCEEDED, port, output, now
    if step.started_at:
        step.duration_ms = int((now - step.started_at).total_seconds() * 1000)
    step.save(update_fields=["status", "port", "output", "finished_at", "duration_ms"])


def requeue(run_id, now) -> None:
    """A waiting run goes back to the queue (dispatched now)."""
    Run.objects.filter(pk=run_id).update(status=RunStatus.QUEUED, wake_at=None, dispatched_at=now)


def mark_redispatched(run_ids: list, now) -> None:
    """The reaper sent these runs again (its back-off counts the times)."""
    Run.objects.filter(pk__in=run_ids).update(dispatched_at=now, redispatches=F("redispatches") + 1)
