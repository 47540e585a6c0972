"""The engine's Store implemented on the Django ORM: lease on the run row, one transaction per commit."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
import uuid
from functools import lru_cache

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Q
from django.utils import timezone

from runs import events
from runs.engine.store import Commit, CommitResult, LeaseLost, RunSnapshot, StepRecord
from runs.executors.base import NodeError
from runs.models import TERMINAL_STATUSES, Run, RunEvent, RunStatus, Step
from trellis.db import server_side_cursor

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


def _async_commits() -> None:
    """On PostgreSQL, let this connection's commits skip waiting for the WAL flush.

    Per-step commits happen hundreds of times a second; waiting for fsync costs ~5-20 ms each on
    ordinary disks. A database *server* crash may then lose the last fraction of a second of
    steps, which the engine simply runs again (same idempotency keys); a worker crash loses
    nothing committed; a lost terminal state makes the reaper resume the run, which finishes it
    again. RUN_SYNCHRONOUS_COMMIT=true keeps every commit durable."""
    if connection.vendor != "postgresql" or getattr(settings, "RUN_SYNCHRONOUS_COMMIT", False):
        return
    connection.ensure_connection()
    raw = connection.connection
    if getattr(connection, "_trellis_async_for", None) is raw:
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    connection._trellis_async_for = raw


_STEP_COLUMNS = (
    "id", "run_id", "node_id", "node_type", "status", "input", "output", "error", "port", "state_updates", "wait",
    "started_at", "finished_at", "duration_ms", "usage", '"order"', "attempt", "iteration",
)  # fmt: skip
_STEP_TYPES = (
    "uuid", "uuid", "text", "text", "text", "jsonb", "jsonb", "jsonb", "text", "jsonb", "jsonb",
    "timestamptz", "timestamptz", "int", "jsonb", "int", "int", "int",
)  # fmt: skip

_EVENT_TYPES = ("int", "text", "text", "jsonb", "timestamptz")


def _rows_source(types: tuple[str, ...], rows: list[list]) -> tuple[str, list]:
    """A FROM item for `rows` (one value per column of `types`) and its parameters. A row or two: a VALUES
    list. More: one array per column (unnest, in binary so that elements are not escaped one by one), so
    the statement's text and parameter count stay the same however many rows there are: psycopg re-parses
    a statement with over 50 parameters on every call, and PostgreSQL plans a new text anew."""
    if len(rows) * len(types) <= 24:
        one = "(" + ", ".join(f"%s::{kind}" for kind in types) + ")"
        return f"(VALUES {', '.join([one] * len(rows))})", [value for row in rows for value in row]
    arrays = ", ".join(f"%b::{kind}[]" for kind in types)
    return f"unnest({arrays})", [list(column) for column in zip(*rows, strict=True)]


class _Sql:
    """Hand-written statements for the per-step commit, with values prepared the way Django would."""

    def __init__(self, conn):
        self.conn = conn
        self.pg = conn.vendor == "postgresql"
        self.json_cast = "::jsonb" if self.pg else ""
        self.run_table = conn.ops.quote_name(Run._meta.db_table)
        self.step_table = conn.ops.quote_name(Step._meta.db_table)
        self.event_table = conn.ops.quote_name(RunEvent._meta.db_table)

    def uuid(self, value) -> str:
        return str(value) if self.pg else uuid.UUID(str(value)).hex

    def json(self, value):
        return None if value is None else json.dumps(value, default=str)

    def when(self, value):
        return self.conn.ops.adapt_datetimefield_value(value)

    def _col(self, model, name: str, value):
        field = model._meta.get_field(name)
        internal = field.get_internal_type()
        if internal == "JSONField":
            return f"{self.conn.ops.quote_name(field.column)} = %s{self.json_cast}", self.json(value)
        if internal == "DateTimeField":
            return f"{self.conn.ops.quote_name(field.column)} = %s", self.when(value)
        return f"{self.conn.ops.quote_name(field.column)} = %s", value

    def update_run(self, cursor, run_id, owner, fields: dict, n_events: int):
        sets, params = [], []
        for name, value in fields.items():
            clause, param = self._col(Run, name, value)
            sets.append(clause)
            params.append(param)
        sets.append("last_seq = last_seq + %s")
        params.append(n_events)
        cursor.execute(
            f"UPDATE {self.run_table} SET {', '.join(sets)} WHERE id = %s AND lease_owner = %s "
            "RETURNING last_seq, cancel_requested",
            [*params, self.uuid(run_id), owner],
        )
        return cursor.fetchone()

    def _step_values(self, rec: StepRecord) -> list:
        j, w = self.json, self.when
        return [
            rec.status,
            j(rec.input),
            j(rec.output),
            j(rec.error),
            rec.port,
            j(rec.state_updates or {}),
            j(rec.wait),
            w(rec.started_at),
            w(rec.finished_at),
            rec.duration_ms,
            j(rec.usage),
            rec.order,
            rec.attempt,
            rec.iteration,
        ]

    def insert_steps(self, cursor, run_id, recs: list[StepRecord]) -> None:
        c = self.json_cast
        one = f"(%s, %s, %s, %s, %s, %s{c}, %s{c}, %s{c}, %s, %s{c}, %s{c}, %s, %s, %s, %s{c}, %s, %s, %s)"
        params: list = []
        for rec in recs:
            params += [self.uuid(rec.id), self.uuid(run_id), rec.node_id, rec.node_type, *self._step_values(rec)]
        cursor.execute(
            f"INSERT INTO {self.step_table} (id, run_id, node_id, node_type, status, input, output, error, port, "
            'state_updates, wait, started_at, finished_at, duration_ms, usage, "order", attempt, iteration) '
            f"VALUES {', '.join([one] * len(recs))}",
            params,
        )

    def commit_pg(self, cursor, run_id, owner, fields: dict, steps: list[StepRecord], events: list):
        """UPDATE the run (lease-guarded), INSERT new steps and events: one statement, one round trip.
        When the lease is lost the UPDATE matches nothing, the inserts see no row, and None comes back."""
        sets, params = [], []
        for name, value in fields.items():
            clause, param = self._col(Run, name, value)
            sets.append(clause)
            params.append(param)
        sets.append("last_seq = last_seq + %s")
        params.append(len(events))
        sql = [
            f"WITH r AS (UPDATE {self.run_table} SET {', '.join(sets)} WHERE id = %s AND lease_owner = %s "
            "RETURNING last_seq, cancel_requested)"
        ]
        params += [run_id, owner]
        if steps:
            rows = [[str(rec.id), str(run_id), rec.node_id, rec.node_type, *self._step_values(rec)] for rec in steps]
            source, values = _rows_source(_STEP_TYPES, rows)
            sql.append(
                f", s AS (INSERT INTO {self.step_table} ({', '.join(_STEP_COLUMNS)}) "
                f"SELECT * FROM {source} AS v WHERE EXISTS (SELECT 1 FROM r))"
            )
            params += values
        if events:
            rows = [[k, ev.type, ev.node_id, self.json(ev.data or {}), ts] for k, (ev, ts) in enumerate(events, 1)]
            source, values = _rows_source(_EVENT_TYPES, rows)
            sql.append(
                f", e AS (INSERT INTO {self.event_table} (run_id, seq, type, node_id, data, ts) "
                f"SELECT %s::uuid, r.last_seq - %s + v.k, v.t, v.n, v.d, v.ts FROM r, {source} AS v (k, t, n, d, ts))"
            )
            params += [run_id, len(events), *values]
        sql.append(" SELECT last_seq, cancel_requested FROM r")
        cursor.execute("".join(sql), params, prepare=True)
        return cursor.fetchone()

    def update_step(self, cursor, rec: StepRecord) -> None:
        c = self.json_cast
        cursor.execute(
            f"UPDATE {self.step_table} SET status = %s, input = %s{c}, output = %s{c}, error = %s{c}, port = %s, "
            f"state_updates = %s{c}, wait = %s{c}, started_at = %s, finished_at = %s, duration_ms = %s, "
            f'usage = %s{c}, "order" = %s, attempt = %s, iteration = %s WHERE id = %s',
            [*self._step_values(rec), self.uuid(rec.id)],
        )

    def insert_events(self, cursor, run_id, rows: list) -> None:
        one = f"(%s, %s, %s, %s, %s{self.json_cast}, %s)"
        params: list = []
        rid = self.uuid(run_id)
        for seq, ev, ts in rows:
            params += [rid, seq, ev.type, ev.node_id, self.json(ev.data or {}), self.when(ts)]
        values = ", ".join([one] * len(rows))
        cursor.execute(f"INSERT INTO {self.event_table} (run_id, seq, type, node_id, data, ts) VALUES {values}", params)


def _version_graph(version_id, workflow_id) -> dict:
    """A published version's graph, a fresh copy for each run (executors get its node dicts)."""
    return json.loads(_version_graph_text(version_id, workflow_id)) if version_id is not None else {}


@lru_cache(maxsize=256)
def _version_graph_text(version_id, workflow_id) -> str:
    # Kept as text: json.loads makes each run its own copy faster than copy.deepcopy would.
    from builder.selectors import version_cached

    return json.dumps(version_cached(version_id, workflow_id).graph)


HOLD_PREFIX = "hold:"


def holder_name(process_owner: str) -> str:
    """The lease owner that marks queued runs received by a worker process and not started yet (a hold).
    Any advance in that process may take the lease over from it; an expired hold is not a crash of the run."""
    return f"{HOLD_PREFIX}{process_owner}"


@lru_cache(maxsize=4)
def _lease_statement(run_table: str) -> str:
    columns = ", ".join(connection.ops.quote_name(f.column) for f in Run._meta.concrete_fields)
    # Taking over a lease that expired (not a hold) counts one more recovery: the worker that held it died or
    # froze. SET expressions read the row as it was before the update.
    return (
        f"UPDATE {run_table} SET lease_owner = %s, lease_expires_at = %s, recoveries = recoveries + CASE "
        f"WHEN lease_owner IS NULL OR substr(lease_owner, 1, {len(HOLD_PREFIX)}) = '{HOLD_PREFIX}' THEN 0 ELSE 1 END "
        f"WHERE id = %s AND status IN (%s, %s, %s) "
        f"AND (lease_owner IS NULL OR lease_expires_at < %s OR lease_owner = %s) RETURNING {columns}"
    )


def _take_lease(sql: _Sql, params: list) -> Run | None:
    fields = Run._meta.concrete_fields
    statement = _lease_statement(sql.run_table)
    if not sql.pg:
        return next(iter(Run.objects.raw(statement, params)), None)
    with server_side_cursor(connection) as cursor:
        cursor.execute(statement, params, prepare=True)
        row = cursor.fetchone()
    if row is None:
        return None
    # What the ORM would do with the row: each field's own conversion (JSON text -> objects).
    values = [
        f.from_db_value(value, None, connection) if hasattr(f, "from_db_value") else value
        for f, value in zip(fields, row, strict=True)
    ]
    return Run.from_db(connection.alias, [f.attname for f in fields], values)


class DjangoStore:
    def __init__(self) -> None:
        # Run rows as acquired, so that run-finishing listeners get the run without another query.
        self._acquired: dict[str, Run] = {}

    def acquire(self, run_id: str, owner: str, lease_s: float) -> RunSnapshot | None:
        _async_commits()
        now = timezone.now()
        sql = _Sql(connection)
        # One round trip: take the lease and read the row (UPDATE … RETURNING), a prepared statement on PostgreSQL.
        run = _take_lease(
            sql,
            [
                owner,
                sql.when(now + dt.timedelta(seconds=lease_s)),
                sql.uuid(run_id),
                RunStatus.QUEUED,
                RunStatus.RUNNING,
                RunStatus.WAITING,
                sql.when(now),
                holder_name(owner.rsplit(":", 1)[0]),
            ],
        )
        if run is None:
            return None
        fresh = run.status == RunStatus.QUEUED and run.step_counter == 0 and run.started_at is None
        steps = [] if fresh else list(Step.objects.filter(run_id=run_id))
        if run.status == RunStatus.WAITING and not run.cancel_requested:
            due = run.wake_at is not None and run.wake_at <= now
            decided = any(s.order is None and s.status == "succeeded" for s in steps)
            if not (due or decided):
                self.release(run_id, owner)
                return None
        self._acquired[str(run_id)] = run
        return RunSnapshot(
            id=str(run.pk),
            workspace_id=str(run.workspace_id),
            status=run.status,
            graph=run.graph if run.graph is not None else _version_graph(run.version_id, run.workflow_id),
            input=run.input,
            trigger=run.trigger or {},
            created_at=run.created_at,
            started_at=run.started_at,
            timings=run.timings or {},
            usage=run.usage or {},
            cancel_requested=run.cancel_requested,
            step_counter=run.step_counter,
            steps=[_record(s) for s in steps],
            recoveries=run.recoveries,
        )

    def commit(self, run_id: str, owner: str, lease_s: float, commit: Commit) -> CommitResult:
        fields = dict(commit.run)
        if commit.release:
            fields.update(lease_owner=None, lease_expires_at=None)
        elif commit.extend_lease:
            fields["lease_expires_at"] = timezone.now() + dt.timedelta(seconds=lease_s)
        if commit.step_counter is not None:
            fields["step_counter"] = commit.step_counter
        n_events = len(commit.events)
        terminal = fields.get("status") in TERMINAL_STATUSES
        resumed = False
        # The lease ends with this commit: the remembered row goes to the listeners or is dropped.
        acquired = self._acquired.pop(str(run_id), None) if commit.release else None
        _async_commits()
        sql = _Sql(connection)
        stamped = [(ev, ev.ts or timezone.now()) for ev in commit.events]
        new = [r for r in commit.steps if not r.persisted]
        updated = [r for r in commit.steps if r.persisted]
        waiting = commit.release and fields.get("status") == RunStatus.WAITING
        # Raw SQL: this runs once per step, and the ORM's query building was most of its cost. On
        # PostgreSQL a plain step commit is a single statement in autocommit: one round trip. The final
        # commit is a transaction, which the run-finishing listeners' writes join.
        single = sql.pg and not updated and not waiting and not terminal
        with contextlib.ExitStack() as stack:
            if not single:
                stack.enter_context(transaction.atomic())
            cursor = stack.enter_context(server_side_cursor(connection) if sql.pg else connection.cursor())
            if sql.pg:
                row = sql.commit_pg(cursor, run_id, owner, fields, new, stamped)
                if row is None:
                    self._acquired.pop(str(run_id), None)
                    raise LeaseLost()
                last_seq, cancel_requested = row
            else:
                row = sql.update_run(cursor, run_id, owner, fields, n_events)
                if row is None:
                    self._acquired.pop(str(run_id), None)
                    raise LeaseLost()
                last_seq, cancel_requested = row
                if new:
                    sql.insert_steps(cursor, run_id, new)
                if n_events:
                    sql.insert_events(
                        cursor, run_id, [(last_seq - n_events + k, ev, ts) for k, (ev, ts) in enumerate(stamped, 1)]
                    )
            for rec in updated:
                sql.update_step(cursor, rec)
            if waiting:
                # An approval decided while we were still running: go round again instead of waiting.
                if Step.objects.filter(run_id=run_id, order__isnull=True, status="succeeded").exists():
                    Run.objects.filter(pk=run_id).update(status=RunStatus.QUEUED)
                    resumed = True
            messages = [
                events.message(
                    seq=last_seq - n_events + k, type=ev.type, run_id=run_id, node_id=ev.node_id, ts=ts, data=ev.data
                )
                for k, (ev, ts) in enumerate(stamped, 1)
            ]
            if messages:
                transaction.on_commit(lambda: events.broadcast(run_id, messages))
            if terminal:
                from runs.services import notify_finishing

                if acquired is not None:
                    for name, value in fields.items():
                        setattr(acquired, name, value)
                    acquired.last_seq = last_seq
                notify_finishing(run_id, run=acquired)
        return CommitResult(cancel_requested=bool(cancel_requested), resumed=resumed)

    def heartbeat(self, run_id: str, owner: str, lease_s: float) -> bool:
        updated = Run.objects.filter(pk=run_id, lease_owner=owner).update(
            lease_expires_at=timezone.now() + dt.timedelta(seconds=lease_s)
        )
        if not updated:
            raise LeaseLost()
        return Run.objects.filter(pk=run_id).values_list("cancel_requested", flat=True).get()

    def heartbeat_many(self, leases: list[tuple[str, str]], lease_s: float) -> tuple[set[str], set[str]]:
        expires = timezone.now() + dt.timedelta(seconds=lease_s)
        cancelled: set[str] = set()
        held: set[str] = set()
        for i in range(0, len(leases), 200):
            chunk = leases[i : i + 200]
            mine = Q()
            for run_id, owner in chunk:
                mine |= Q(pk=run_id, lease_owner=owner)
            rows = Run.objects.filter(mine)
            for pk, cancel_requested in rows.values_list("pk", "cancel_requested"):
                held.add(str(pk))
                if cancel_requested:
                    cancelled.add(str(pk))
            rows.update(lease_expires_at=expires)
        return cancelled, {run_id for run_id, _ in leases} - held

    def hold(self, run_ids: list[str], holder: str, lease_s: float) -> int:
        """Mark queued runs that this worker received (one message of several runs) and will start soon: if the
        worker dies first, their hold expires like a lease and the reaper sends them again at once, instead of
        leaving them to the broker's redelivery (an hour on Redis). Returns how many were held."""
        return Run.objects.filter(pk__in=run_ids, status=RunStatus.QUEUED, lease_owner__isnull=True).update(
            lease_owner=holder, lease_expires_at=timezone.now() + dt.timedelta(seconds=lease_s)
        )

    def renew_holds(self, run_ids: list[str], holder: str, lease_s: float) -> int:
        return Run.objects.filter(pk__in=run_ids, lease_owner=holder).update(
            lease_expires_at=timezone.now() + dt.timedelta(seconds=lease_s)
        )

    def release(self, run_id: str, owner: str) -> None:
        self._acquired.pop(str(run_id), None)
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
