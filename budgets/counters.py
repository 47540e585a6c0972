"""The budget counters' persistence boundary: the statements every budgeted model call runs, written once
here in SQL because the ORM's compilation cost more CPU than the database spent running them
(bench/bench_budgets.py: about 1.1 ms of client CPU per call through the ORM on a loaded machine).

Each is one statement, atomic by itself, on PostgreSQL and on SQLite (3.35+ for RETURNING). Table and column
names come from the models."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache

from django.db import connection

from budgets.models import Budget, BudgetPeriod, RunCostLimit
from runs.persistence.sql import cursor as prepared_cursor

_UUID_FIELD = Budget._meta.pk


def _columns(model) -> dict[str, str]:
    return {f.name: connection.ops.quote_name(f.column) for f in model._meta.concrete_fields}


@lru_cache(maxsize=32)
def _sql(kind: str, pairs: int, vendor: str) -> str:
    period = _columns(BudgetPeriod)
    table = connection.ops.quote_name(BudgetPeriod._meta.db_table)
    num, ts = ("::numeric", "::timestamptz") if vendor == "postgresql" else ("", "")
    reserved, spent, limit = period["reserved_usd"], period["spent_usd"], period["limit_usd"]
    where = " OR ".join([f"({period['budget']} = %s AND {period['starts_on']} = %s)"] * pairs)
    if kind == "hold":
        # Holds `estimate` in every counter where it still fits under that counter's own limit.
        return (
            f"UPDATE {table} SET {reserved} = {reserved} + %s{num} "
            f"WHERE ({where}) AND {spent} + {reserved} + %s{num} <= {limit}"
        )
    if kind == "settle":
        # Swaps the estimate for the cost; the first settle that brings spent to the alert threshold sets
        # alerted_at (SET sees the row as it was), and RETURNING tells whether this statement did.
        alerted, threshold = period["alerted_at"], period["alert_threshold_usd"]
        return (
            f"UPDATE {table} SET {reserved} = {reserved} - %s{num}, {spent} = {spent} + %s{num}, "
            f"{alerted} = CASE WHEN {alerted} IS NULL AND %s = 1 AND {spent} + %s{num} >= {threshold} "
            f"THEN %s{ts} ELSE {alerted} END "
            f"WHERE ({where}) RETURNING {period['id']}, {alerted} = %s{ts}"
        )
    cap = _columns(RunCostLimit)
    cap_table = connection.ops.quote_name(RunCostLimit._meta.db_table)
    c_reserved, c_spent, c_max, c_run = cap["reserved_usd"], cap["spent_usd"], cap["max_cost_usd"], cap["run"]
    if kind == "cap_hold":
        return (
            f"UPDATE {cap_table} SET {c_reserved} = {c_reserved} + %s{num} "
            f"WHERE {c_run} = %s AND {c_spent} + {c_reserved} + %s{num} <= {c_max}"
        )
    if kind == "cap_settle":
        return (
            f"UPDATE {cap_table} SET {c_reserved} = {c_reserved} - %s{num}, {c_spent} = {c_spent} + %s{num} "
            f"WHERE {c_run} = %s"
        )
    raise ValueError(kind)


def _decimal(value: Decimal):
    return connection.ops.adapt_decimalfield_value(value, 18, 9)


def _uuid(value):
    # UUIDField's own conversion: a uuid on PostgreSQL, 32 hex characters on SQLite.
    return _UUID_FIELD.get_db_prep_value(value, connection)


def _pairs(holds) -> list:
    params: list = []
    for hold in holds:
        params += [_uuid(hold.budget_id), connection.ops.adapt_datefield_value(hold.starts_on)]
    return params


def _run_id(run_id):
    return _uuid(run_id)


def _execute(sql: str, params: list, *, fetch: bool = False):
    if connection.vendor == "postgresql":
        # Server-side binding and a prepared statement: PostgreSQL parses and plans it once per connection.
        with prepared_cursor() as cursor:
            cursor.execute(sql, params, prepare=True)
            return cursor.fetchall() if fetch else cursor.rowcount
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if fetch else cursor.rowcount


def hold(holds, estimate: Decimal) -> int:
    """Add `estimate` to the reserved amount of each window counter in `holds` where it fits; returns how many
    it went into (fewer than len(holds): undo, inside a transaction)."""
    e = _decimal(estimate)
    return _execute(_sql("hold", len(holds), connection.vendor), [e, *_pairs(holds), e])


def settle(holds, estimate: Decimal, cost: Decimal, now: dt.datetime) -> list:
    """Release `estimate` and add `cost` to each counter; returns the ids of the counters whose soft alert this
    settle fired."""
    e, c = _decimal(estimate), _decimal(cost)
    at = connection.ops.adapt_datetimefield_value(now)
    rows = _execute(
        _sql("settle", len(holds), connection.vendor),
        [e, c, 1 if cost > 0 else 0, c, at, *_pairs(holds), at],
        fetch=True,
    )
    return [pk for pk, fired in rows if fired]


def cap_hold(run_id, estimate: Decimal) -> bool:
    e = _decimal(estimate)
    return bool(_execute(_sql("cap_hold", 0, connection.vendor), [e, _run_id(run_id), e]))


def cap_settle(run_id, estimate: Decimal, cost: Decimal) -> None:
    _execute(_sql("cap_settle", 0, connection.vendor), [_decimal(estimate), _decimal(cost), _run_id(run_id)])
