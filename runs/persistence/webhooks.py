"""The two statements of a webhook call (bench/bench_webhooks.py showed both to pay):

- reading its trigger with the workflow columns it depends on (any database): the ORM's select_related query
  cost about a third of a webhook's CPU (building the SQL, not running it);
- storing a group of webhook runs with their first events and delivery-log lines (runs/triggers/ingest.py),
  only where the trigger's rows are still what was read (their `guard`) and the run's idempotency key is new:
  on PostgreSQL one prepared statement for any group size (`guard_sql`), elsewhere (SQLite) INSERTs in the
  writer thread's transaction after reading the triggers again under its write lock."""

from __future__ import annotations

import hashlib
from functools import lru_cache

from django.db import connection

from builder.models import Workflow
from runs.models import Run, RunEvent
from runs.persistence import sql
from runs.persistence.runs import insert_each
from runs.persistence.writer import write
from runs.triggers.models import Delivery, Trigger, TriggerKind

# The workflow columns a webhook depends on (the trigger's are all of its row).
_WORKFLOW_FIELDS = ("workspace_id", "name", "archived_at", "published_version_id")


def guard_sql(t: str = "t", w: str = "w") -> str:
    """An md5 of the trigger's whole row and the workflow columns a webhook depends on (aliases `t`, `w`):
    any write to either — enable, rotate, re-publish, archive — changes it."""
    quote = connection.ops.quote_name
    columns = ", ".join(f"{w}.{quote(Workflow._meta.get_field(f).column)}" for f in _WORKFLOW_FIELDS)
    return f"md5({t}::text || row({columns})::text)"


@lru_cache(maxsize=2)
def _select_where(vendor: str) -> str:
    quote = connection.ops.quote_name
    t, w = Trigger._meta, Workflow._meta
    columns = [f"t.{quote(f.column)}" for f in t.concrete_fields]
    columns += [f"w.{quote(w.get_field(f).column)}" for f in _WORKFLOW_FIELDS]
    columns.append(guard_sql() if vendor == "postgresql" else "NULL")
    return (
        f"SELECT {', '.join(columns)} FROM {sql.table(Trigger)} t "
        f"JOIN {sql.table(Workflow)} w ON w.{quote(w.pk.column)} = t.{quote(t.get_field('workflow').column)} "
        f"WHERE t.{quote(t.get_field('kind').column)} = %s AND "
    )


@lru_cache(maxsize=2)
def _read_statement(vendor: str) -> str:
    return _select_where(vendor) + f"t.{connection.ops.quote_name(Trigger._meta.get_field('key').column)} = %s"


def _fingerprint(row) -> str:
    """The guard where the database computes none (not PostgreSQL): a digest of the row as read."""
    return hashlib.blake2b(repr(tuple(row[:-1])).encode(), digest_size=16).hexdigest()


def read_webhook_trigger(key: str) -> tuple[Trigger, Workflow, str] | None:
    """(the webhook trigger for `key`, its workflow with only the columns a webhook depends on, their guard:
    a fingerprint of those rows), or None. One statement, prepared on PostgreSQL."""
    row = sql.fetch_one(_read_statement(connection.vendor), [TriggerKind.WEBHOOK.value, key])
    if row is None:
        return None
    n = len(Trigger._meta.concrete_fields)
    trigger = sql.from_row(Trigger, row[:n])
    fields = tuple(Workflow._meta.get_field(f) for f in _WORKFLOW_FIELDS)
    read = dict(zip(_WORKFLOW_FIELDS, sql.converted(fields, row[n:-1]), strict=True))
    read[Workflow._meta.pk.attname] = trigger.workflow_id
    # from_db wants the values in the order of the model's fields; the others are deferred.
    names = [f.attname for f in Workflow._meta.concrete_fields if f.attname in read]
    workflow = Workflow.from_db(connection.alias, names, [read[name] for name in names])
    return trigger, workflow, row[-1] if row[-1] is not None else _fingerprint(row)


@lru_cache(maxsize=1)
def _group_statement() -> str:
    quote = connection.ops.quote_name

    def arrays(model) -> str:  # binary (%b): array elements are not escaped one by one
        return ", ".join(f"%b::{kind}[]" for kind in sql.casts(sql.insert_fields(model)))

    t, w = Trigger._meta, Workflow._meta
    run_pk = quote(Run._meta.pk.column)
    run_id = quote(RunEvent._meta.get_field("run").column)
    log_run_id = quote(Delivery._meta.get_field("run_id").column)
    return (
        f"WITH current AS (SELECT t.{quote(t.pk.column)} AS id FROM {sql.table(Trigger)} t "
        f"JOIN {sql.table(Workflow)} w ON w.{quote(w.pk.column)} = t.{quote(t.get_field('workflow').column)} "
        f"JOIN unnest(%b::uuid[], %b::text[]) AS seen(id, guard) ON seen.id = t.{quote(t.pk.column)} "
        f"WHERE {guard_sql()} = seen.guard), "
        f"r AS (SELECT * FROM unnest({arrays(Run)}, %b::uuid[]) AS r({sql.columns(Run)}, trigger_id)), "
        f"p AS (INSERT INTO {sql.table(Run)} ({sql.columns(Run)}) SELECT {sql.columns(Run)} FROM r "
        f"WHERE r.trigger_id IN (SELECT id FROM current) ON CONFLICT DO NOTHING RETURNING {run_pk}), "
        f"e AS (INSERT INTO {sql.table(RunEvent)} ({sql.columns(RunEvent)}) "
        f"SELECT * FROM unnest({arrays(RunEvent)}) AS e({sql.columns(RunEvent)}) "
        f"WHERE e.{run_id} IN (SELECT * FROM p)), "
        f"d AS (INSERT INTO {sql.table(Delivery)} ({sql.columns(Delivery)}) "
        f"SELECT * FROM unnest({arrays(Delivery)}) AS d({sql.columns(Delivery)}) "
        f"WHERE d.{log_run_id} IN (SELECT * FROM p)) "
        f"SELECT ARRAY(SELECT * FROM p), ARRAY(SELECT id FROM current)"
    )


def _column_values(objects: list) -> list[list]:
    """One list per column of the objects' model, the values as the ORM would write them."""
    rows = [sql.values_of(obj) for obj in objects]
    return [list(column) for column in zip(*rows, strict=True)]


def insert_group(guards: dict, runs: list[tuple[Run, object, RunEvent, Delivery]]) -> tuple[dict, set]:
    """Store webhook runs, each (run, its trigger's id, its queued event, its log line), where the trigger's
    guard is still `guards[trigger id]`: returns ({id: the run as stored} of the runs stored, ids of the
    triggers found unchanged). Atomic: one statement on PostgreSQL, one transaction elsewhere."""
    if not sql.is_postgresql():
        return write(_insert_group_each, guards, runs)
    params = [list(guards), list(guards.values())]
    params += _column_values([run for run, *_ in runs]) + [[trigger_id for _, trigger_id, *_ in runs]]
    params += _column_values([event for *_, event, _ in runs])
    params += _column_values([line for *_, line in runs])
    with sql.cursor() as cursor:
        cursor.execute(_group_statement(), params, prepare=True)
        stored, current = cursor.fetchone()
    stored = set(stored)
    return {run.pk: sql.loaded(Run, run) for run, *_ in runs if run.pk in stored}, set(current)


def _insert_group_each(guards: dict, runs: list[tuple[Run, object, RunEvent, Delivery]]) -> tuple[dict, set]:
    """insert_group where one statement cannot do it all (SQLite): in the writer's transaction, which holds the
    database's write lock, the triggers are read again and compared with their guards, then a run (ignored if
    its idempotency key was seen), its event and its log line are stored per call (`insert_each`)."""
    pk = Trigger._meta.pk
    keys = {sql.prep(pk, trigger_id): trigger_id for trigger_id in guards}
    statement = _select_where(connection.vendor) + f"t.{connection.ops.quote_name(pk.column)} IN "
    stored: dict = {}
    with connection.cursor() as cursor:
        cursor.execute(statement + f"({', '.join(['%s'] * len(keys))})", [TriggerKind.WEBHOOK.value, *keys])
        current = {keys[row[0]] for row in cursor.fetchall() if guards[keys[row[0]]] == _fingerprint(row)}
    for run, trigger_id, event, line in runs:
        if trigger_id in current and (inserted := insert_each(run, [event, line])) is not None:
            stored[run.pk] = inserted  # else an idempotency key seen before
    return stored, current
