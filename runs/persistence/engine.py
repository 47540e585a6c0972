"""The engine's Store (runs/engine/store.py) on the Django models: lease on the run row, one transaction per
commit.

The per-step commit and the lease are hand-written SQL: they run once per step and per run, and building
them with the ORM was most of their cost (bench/bench_engine.py). Their columns come from the models."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
from functools import lru_cache

from django.db import connection, connections, transaction
from django.utils import timezone

from runs import events
from runs.engine.store import Commit, CommitResult, LeaseLost, RunSnapshot, StepRecord
from runs.executors.base import NodeError
from runs.finishing import listened_to, notify_finishing
from runs.models import TERMINAL_STATUSES, Run, RunEvent, RunStatus, Step
from runs.persistence import sql
from runs.persistence.writer import atomic, write


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


@lru_cache(maxsize=1)
def _step_fields() -> tuple[tuple, tuple]:
    """(the fields a new step row is written with, those a step's later commits rewrite)."""
    fields = sql.insert_fields(Step)
    fixed = {Step._meta.pk.name, "run", "node_id", "node_type"}
    return fields, tuple(f for f in fields if f.name not in fixed)


@lru_cache(maxsize=1)
def _event_fields() -> tuple:
    """The event fields that come from the engine's Event records (run and seq are the commit's)."""
    return tuple(f for f in sql.insert_fields(RunEvent) if f.name not in ("run", "seq"))


def _fields(which: str) -> tuple:
    if which == "event row":  # the whole row, as written where the database cannot compute seq (not PostgreSQL)
        return (RunEvent._meta.get_field("run"), RunEvent._meta.get_field("seq"), *_event_fields())
    return {"step": _step_fields()[0], "step update": _step_fields()[1], "event": _event_fields()}[which]


@lru_cache(maxsize=8)
def _plan(which: str, vendor: str) -> tuple:
    """(attribute name, conversion, default) per column of `which` row, looked up once per database vendor."""
    fields = _fields(which)
    return tuple(
        zip([f.attname for f in fields], sql.preparers(fields), [f.get_default() for f in fields], strict=True)
    )


@lru_cache(maxsize=8)
def _shape(which: str, vendor: str) -> tuple[str, tuple]:
    """(column list, SQL types) of `which` row."""
    fields = _fields(which)
    return sql.columns(Step if which == "step" else RunEvent, fields), sql.casts(fields)


def _values(which: str, vendor: str, record, override: dict) -> list:
    """Values for the columns of `which` from an engine record's attributes of the same names (and
    `override`); a field the record does not carry gets its default."""
    get = record.__dict__.get
    return [
        convert(override[name] if name in override else get(name, default))
        for name, convert, default in _plan(which, vendor)
    ]


def _step_values(which: str, vendor: str, run_id, rec: StepRecord) -> list:
    return _values(which, vendor, rec, {"run_id": run_id, "state_updates": rec.state_updates or {}})


@lru_cache(maxsize=256)
def _param(field, vendor: str) -> str:
    """A placeholder for a value of `field`: JSON is sent as text, which PostgreSQL is told to read as JSON."""
    if vendor == "postgresql" and field.get_internal_type() == "JSONField":
        return f"%s::{field.cast_db_type(connection)}"
    return "%s"


@lru_cache(maxsize=64)
def _run_set(name: str, vendor: str) -> tuple:
    """(`column = placeholder`, conversion) for setting the run's field `name`."""
    field = Run._meta.get_field(name)
    return f"{connection.ops.quote_name(field.column)} = {_param(field, vendor)}", sql.preparers((field,))[0]


def _update_run(vendor: str, fields: dict, n_events: int) -> tuple[str, list]:
    """The lease-guarded UPDATE of the run (its last_seq reserves the events' numbers) and its parameters."""
    sets, params = [], []
    for name, value in fields.items():
        clause, convert = _run_set(name, vendor)
        sets.append(clause)
        params.append(convert(value))
    return (
        f"UPDATE {_run_table(vendor)} SET {', '.join(sets)}, last_seq = last_seq + %s "
        "WHERE id = %s AND lease_owner = %s RETURNING last_seq, cancel_requested",
        [*params, n_events],
    )


@lru_cache(maxsize=2)
def _run_table(vendor: str) -> str:
    return sql.table(Run)


@lru_cache(maxsize=16)
def _event_insert(source: str) -> str:
    """Events take the sequence numbers the run's UPDATE just reserved (`r.last_seq`)."""
    event_columns, event_types = _shape("event", connection.vendor)
    names = [f"c{i}" for i in range(len(event_types))]
    run_col = connection.ops.quote_name(RunEvent._meta.get_field("run").column)
    return (
        f", e AS (INSERT INTO {sql.table(RunEvent)} ({run_col}, seq, {event_columns}) "
        f"SELECT %s::uuid, r.last_seq - %s + v.k, {', '.join(f'v.{n}' for n in names)} "
        f"FROM r, {source} AS v (k, {', '.join(names)}))"
    )


@lru_cache(maxsize=1)
def _step_table() -> str:
    return sql.table(Step)


def _commit_pg(cursor, run_id, owner, fields: dict, steps: list[StepRecord], stamped: list, updated: list):
    """UPDATE the run (lease-guarded), INSERT new steps and events, UPDATE the steps already stored: one
    statement, one round trip. When the lease is lost the run's UPDATE matches nothing, the other writes see no
    row, and None comes back."""
    vendor = "postgresql"
    update, params = _update_run(vendor, fields, len(stamped))
    statement = [f"WITH r AS ({update})"]
    params += [run_id, owner]
    if steps:
        step_columns, step_types = _shape("step", vendor)
        rows = [_step_values("step", vendor, run_id, rec) for rec in steps]
        source, values = sql.rows_source(step_types, rows)
        statement.append(
            f", s AS (INSERT INTO {_step_table()} ({step_columns}) "
            f"SELECT * FROM {source} AS v WHERE EXISTS (SELECT 1 FROM r))"
        )
        params += values
    if stamped:
        rows = [
            [k, *_values("event", vendor, ev, {"ts": ts, "data": ev.data or {}})]
            for k, (ev, ts) in enumerate(stamped, 1)
        ]
        source, values = sql.rows_source(("int", *_shape("event", vendor)[1]), rows)
        statement.append(_event_insert(source))
        params += [run_id, len(stamped), *values]
    if updated:
        source, values = sql.rows_source(
            _step_update_types(), [[rec.id, *_step_values("step update", vendor, run_id, rec)] for rec in updated]
        )
        statement.append(_step_update(source))
        params += values
    statement.append(" SELECT last_seq, cancel_requested FROM r")
    cursor.execute("".join(statement), params, prepare=True)
    return cursor.fetchone()


@lru_cache(maxsize=1)
def _step_update_types() -> tuple:
    return ("uuid", *sql.casts(_step_fields()[1]))


@lru_cache(maxsize=8)
def _step_update(source: str) -> str:
    """Steps already stored (a step that ran and now has its outcome) rewritten from `source` (id, then the
    columns of a step's later commits), in the same statement as the lease-guarded run UPDATE."""
    quote = connection.ops.quote_name
    fields = _step_fields()[1]
    names = [f"c{i}" for i in range(len(fields))]
    sets = ", ".join(f"{quote(f.column)} = v.{n}" for f, n in zip(fields, names, strict=True))
    pk = quote(Step._meta.pk.column)
    return (
        f", u AS (UPDATE {_step_table()} AS t SET {sets} FROM {source} AS v (id, {', '.join(names)}) "
        f"WHERE t.{pk} = v.id AND EXISTS (SELECT 1 FROM r))"
    )


def _commit_other(cursor, run_id, owner, fields: dict, steps: list[StepRecord], stamped: list, updated: list):
    """The same writes on another database (SQLite in development): one statement each."""
    vendor = connection.vendor
    update, params = _update_run(vendor, fields, len(stamped))
    run_key = sql.prep(Run._meta.pk, run_id)
    cursor.execute(update, [*params, run_key, owner])
    row = cursor.fetchone()
    if row is None:
        return None
    if steps:
        _insert(cursor, "step", vendor, [_step_values("step", vendor, run_id, rec) for rec in steps])
    if stamped:
        first = row[0] - len(stamped)
        rows = [
            _values("event row", vendor, ev, {"run_id": run_id, "seq": first + k, "ts": ts, "data": ev.data or {}})
            for k, (ev, ts) in enumerate(stamped, 1)
        ]
        _insert(cursor, "event row", vendor, rows)
    for rec in updated:
        _update_step(cursor, run_id, rec)
    return row


@lru_cache(maxsize=32)
def _insert_statement(which: str, n_rows: int, vendor: str) -> str:
    fields = _fields(which)
    model = Step if which == "step" else RunEvent
    one = "(" + ", ".join(_param(f, vendor) for f in fields) + ")"
    return f"INSERT INTO {sql.table(model)} ({sql.columns(model, fields)}) VALUES {', '.join([one] * n_rows)}"


def _insert(cursor, which: str, vendor: str, rows: list[list]) -> None:
    cursor.execute(_insert_statement(which, len(rows), vendor), [v for row in rows for v in row])


@lru_cache(maxsize=2)
def _update_step_statement(vendor: str) -> str:
    _, fields = _step_fields()
    quote = connection.ops.quote_name
    sets = ", ".join(f"{quote(f.column)} = {_param(f, vendor)}" for f in fields)
    return f"UPDATE {sql.table(Step)} SET {sets} WHERE {quote(Step._meta.pk.column)} = %s"


def _update_step(cursor, run_id, rec: StepRecord) -> None:
    cursor.execute(
        _update_step_statement(connection.vendor),
        [*_step_values("step update", connection.vendor, run_id, rec), sql.prep(Step._meta.pk, rec.id)],
    )


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
def _lease_statement(vendor: str) -> str:
    # Taking over a lease that expired (not a hold, not the taker's own) counts one more recovery: the worker that
    # held it died or froze. An owner may take its own lease again (a run stored leased to the advance that was to
    # start it, when that advance came late: DjangoStore.claim). SET expressions read the row as it was before the
    # update.
    return (
        f"UPDATE {sql.table(Run)} SET lease_owner = %(owner)s, lease_expires_at = %(expires)s, "
        f"recoveries = recoveries + CASE WHEN lease_owner IS NULL OR lease_owner = %(owner)s "
        f"OR substr(lease_owner, 1, {len(HOLD_PREFIX)}) = '{HOLD_PREFIX}' THEN 0 ELSE 1 END "
        f"WHERE id = %(id)s AND status IN (%(queued)s, %(running)s, %(waiting)s) AND (lease_owner IS NULL "
        f"OR lease_expires_at < %(now)s OR lease_owner = %(holder)s OR lease_owner = %(owner)s) "
        f"RETURNING {sql.columns(Run, Run._meta.concrete_fields)}"
    )


@lru_cache(maxsize=1)
def _claim_held_statement() -> str:
    from budgets.services import run_caps_sql

    # The owners are matched to the ids by position (unnest of two arrays). Taking over this process's own hold,
    # or a run nobody holds, counts no recovery.
    return (
        f"UPDATE {sql.table(Run)} AS r SET lease_owner = v.owner, lease_expires_at = %s "
        f"FROM unnest(%s::text[], %s::uuid[]) AS v(owner, id) "
        f"WHERE r.id = v.id AND (r.lease_owner = %s OR r.lease_owner IS NULL) AND r.status = %s "
        f"AND r.step_counter = 0 AND r.started_at IS NULL "
        f"RETURNING {', '.join('r.' + c for c in sql.columns(Run, Run._meta.concrete_fields).split(', '))}, "
        f"{run_caps_sql('r')}"
    )


def _update_by_ids(sets: str, where: str, set_params: list, where_params: list, run_ids: list[str]) -> int:
    """UPDATE runs by id, the ids as one array parameter (PostgreSQL): a worker holds a message's runs and
    renews the holds while they wait for room, and extends the leases of every run in flight; the ORM quoting
    each id into the SQL text was most of that work."""
    with sql.cursor() as cursor:
        cursor.execute(
            f"UPDATE {sql.table(Run)} SET {sets} WHERE id = ANY(%s::uuid[]) AND {where}",
            [*set_params, [str(pk) for pk in run_ids], *where_params],
            prepare=True,
        )
        return cursor.rowcount


def _lease_states(run_ids: list[str]) -> list[tuple]:
    """(id, lease owner, cancel requested) of each run: a heartbeat reads them for every run in flight each
    second. On PostgreSQL the ids travel as one array parameter (the ORM quoting a thousand ids into the SQL
    text cost more than the read)."""
    if not sql.is_postgresql():
        return list(Run.objects.filter(pk__in=run_ids).values_list("pk", "lease_owner", "cancel_requested"))
    with sql.cursor() as cursor:
        cursor.execute(
            f"SELECT id, lease_owner, cancel_requested FROM {sql.table(Run)} WHERE id = ANY(%s::uuid[])",
            [[str(pk) for pk in run_ids]],
            prepare=True,
        )
        return cursor.fetchall()


def _take_lease(params: dict) -> Run | None:
    """One round trip: take the lease and read the row (UPDATE … RETURNING), a prepared statement on PostgreSQL."""
    # A write: on SQLite it joins the group commit (runs/persistence/writer.py); elsewhere it runs here.
    row = write(sql.fetch_one, _lease_statement(connection.vendor), params)
    return None if row is None else sql.from_row(Run, row)


class DjangoStore:
    def __init__(self) -> None:
        # Run rows as acquired, so that run-finishing listeners get the run without another query.
        self._acquired: dict[str, Run] = {}

    def acquire(self, run_id: str, owner: str, lease_s: float) -> RunSnapshot | None:
        sql.async_commits()
        now = timezone.now()
        when = Run._meta.get_field("lease_expires_at")
        run = _take_lease(
            {
                "owner": owner,
                "expires": sql.prep(when, now + dt.timedelta(seconds=lease_s)),
                "id": sql.prep(Run._meta.pk, run_id),
                "queued": RunStatus.QUEUED,
                "running": RunStatus.RUNNING,
                "waiting": RunStatus.WAITING,
                "now": sql.prep(when, now),
                "holder": holder_name(owner.rsplit(":", 1)[0]),
            }
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
        return self._snapshot(run, steps)

    @staticmethod
    def claim(run: Run, owner: str, lease_s: float) -> None:
        """Lease a new run, before it is stored, to the advance `owner` that will start it: stored so, the run
        starts without a write to take its lease (`adopt`). In the database it is an ordinary lease: if this
        process dies first, the lease expires and the reaper sends the run again."""
        run.lease_owner = owner
        run.lease_expires_at = timezone.now() + dt.timedelta(seconds=lease_s)

    def adopt(self, run: Run) -> RunSnapshot:
        """The snapshot of a new run stored by this process with its lease (`claim`), as `acquire` would read it.
        From a copy: the run-finishing listeners update the row kept here, and `run` is the caller's (a webhook
        answers with its status, queued, even once the run has finished)."""
        return self._snapshot(sql.loaded(Run, run), [])

    def _snapshot(self, run: Run, steps: list[Step]) -> RunSnapshot:
        self._acquired[str(run.pk)] = run
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
        # The lease ends with this commit: the remembered row goes to the listeners or is dropped.
        acquired = self._acquired.pop(str(run_id), None) if commit.release else None
        if terminal and acquired is not None:
            for name, value in fields.items():
                setattr(acquired, name, value)
        # Most runs' ends concern no run-finishing listener (decided from the run's trigger): then no
        # transaction is needed for their writes to join.
        finishing = terminal and listened_to(acquired)
        sql.async_commits()
        pg = sql.is_postgresql()
        stamped = [(ev, ev.ts or timezone.now()) for ev in commit.events]
        new = [r for r in commit.steps if not r.persisted]
        updated = [r for r in commit.steps if r.persisted]
        waiting = commit.release and fields.get("status") == RunStatus.WAITING
        # Raw SQL: this runs once per step, and the ORM's query building was most of its cost. On
        # PostgreSQL a commit is a single statement in autocommit: one round trip. A commit that a listener
        # hears of, or that may resume a waiting run, is a transaction.
        single = pg and not waiting and not finishing

        def store() -> CommitResult:
            resumed = False
            with contextlib.ExitStack() as stack:
                if not single:
                    stack.enter_context(atomic())
                cursor = stack.enter_context(sql.cursor() if pg else connection.cursor())
                row = (_commit_pg if pg else _commit_other)(cursor, run_id, owner, fields, new, stamped, updated)
                if row is None:
                    self._acquired.pop(str(run_id), None)
                    raise LeaseLost()
                last_seq, cancel_requested = row
                if waiting:
                    # An approval decided while we were still running: go round again instead of waiting.
                    if Step.objects.filter(run_id=run_id, order__isnull=True, status="succeeded").exists():
                        Run.objects.filter(pk=run_id).update(status=RunStatus.QUEUED)
                        resumed = True
                first = last_seq - n_events
                messages = [
                    events.message(seq=first + k, type=ev.type, run_id=run_id, node_id=ev.node_id, ts=ts, data=ev.data)
                    for k, (ev, ts) in enumerate(stamped, 1)
                ]
                if messages:
                    transaction.on_commit(lambda: events.broadcast(run_id, messages))
                if finishing:
                    if acquired is not None:
                        acquired.last_seq = last_seq
                    notify_finishing(run_id, run=acquired)
            return CommitResult(cancel_requested=bool(cancel_requested), resumed=resumed)

        # On SQLite the commit joins the writer thread's next transaction (runs/persistence/writer.py).
        return write(store)

    def heartbeat(self, run_id: str, owner: str, lease_s: float) -> bool:
        updated = Run.objects.filter(pk=run_id, lease_owner=owner).update(
            lease_expires_at=timezone.now() + dt.timedelta(seconds=lease_s)
        )
        if not updated:
            raise LeaseLost()
        return Run.objects.filter(pk=run_id).values_list("cancel_requested", flat=True).get()

    def heartbeat_many(
        self, leases: list[tuple[str, str]], lease_s: float, extend: set[str]
    ) -> tuple[set[str], set[str]]:
        # Reading is cheap and takes no lock: every run in flight is checked each beat (a cancel is seen within
        # a second). Writing is not (SQLite has one write lock): leases are extended a third of a lease at a time.
        owners = dict(leases)
        cancelled: set[str] = set()
        held: dict[str, str] = {}
        for i in range(0, len(leases), 500):
            ids = [run_id for run_id, _ in leases[i : i + 500]]
            for pk, lease_owner, cancel_requested in _lease_states(ids):
                if lease_owner == owners[str(pk)]:
                    held[str(pk)] = lease_owner
                    if cancel_requested:
                        cancelled.add(str(pk))
        due = [(run_id, owner) for run_id, owner in held.items() if run_id in extend]
        if due:
            write(self._extend, due, timezone.now() + dt.timedelta(seconds=lease_s))
        return cancelled, set(owners) - set(held)

    @staticmethod
    def _extend(leases: list[tuple[str, str]], expires) -> None:
        # Owners name one advance of one run: matching either list is matching the pair.
        for i in range(0, len(leases), 500):
            chunk = leases[i : i + 500]
            run_ids, owners = [r for r, _ in chunk], [o for _, o in chunk]
            if sql.is_postgresql():
                _update_by_ids("lease_expires_at = %s", "lease_owner = ANY(%s::text[])", [expires], [owners], run_ids)
            else:
                Run.objects.filter(pk__in=run_ids, lease_owner__in=owners).update(lease_expires_at=expires)

    def hold(self, run_ids: list[str], holder: str, lease_s: float) -> int:
        """Mark queued runs that this worker received (one message of several runs) and will start soon: if the
        worker dies first, their hold expires like a lease and the reaper sends them again at once, instead of
        leaving them to the broker's redelivery (an hour on Redis). Returns how many were held."""
        expires = timezone.now() + dt.timedelta(seconds=lease_s)
        if sql.is_postgresql():
            return _update_by_ids(
                "lease_owner = %s, lease_expires_at = %s",
                "status = %s AND lease_owner IS NULL",
                [holder, expires],
                [RunStatus.QUEUED],
                run_ids,
            )
        return Run.objects.filter(pk__in=run_ids, status=RunStatus.QUEUED, lease_owner__isnull=True).update(
            lease_owner=holder, lease_expires_at=expires
        )

    def claim_held(self, owners: dict[str, str], holder: str, lease_s: float) -> dict[str, tuple]:
        """Lease fresh runs (queued, never started) that this process holds, or that nobody holds yet, to the
        advances that will start them, in one statement: {run id: (owner, lease expiry, the run as stored)}. A
        run left out (held or leased by another, or not fresh: it replays steps) takes its lease as any advance
        does (`acquire`). PostgreSQL only (queue mode); elsewhere nothing is claimed."""
        if not owners or not sql.is_postgresql():
            return {}
        expires = timezone.now() + dt.timedelta(seconds=lease_s)
        ids = [str(run_id) for run_id in owners]
        with sql.cursor() as cursor:
            cursor.execute(_claim_held_statement(), [expires, list(owners.values()), ids, holder, RunStatus.QUEUED])
            rows = cursor.fetchall()
        from budgets.services import remember_run_facts

        claimed = {}
        for row in rows:
            run = sql.from_row(Run, row[:-2])
            # What decides the run's budgets, read with it: its first model call reads nothing.
            remember_run_facts(run, *row[-2:])
            claimed[str(run.pk)] = (owners[str(run.pk)], expires, run)
        return claimed

    def renew_holds(self, run_ids: list[str], holder: str, lease_s: float) -> int:
        expires = timezone.now() + dt.timedelta(seconds=lease_s)
        if sql.is_postgresql():
            return _update_by_ids("lease_expires_at = %s", "lease_owner = %s", [expires], [holder], run_ids)
        return Run.objects.filter(pk__in=run_ids, lease_owner=holder).update(lease_expires_at=expires)

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
