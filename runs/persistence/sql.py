"""Columns, values and cursors for the hand-written statements of this package.

Column lists come from the models' own fields, so a field added to a model is written by every statement
without an edit here; values are prepared as the ORM prepares them (`get_db_prep_save`), except JSON, which
is serialised with `default=str` as the engine always did (an executor's output may hold a date)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
import weakref
from functools import lru_cache

from django.conf import settings
from django.db import connection, models


@lru_cache(maxsize=32)
def insert_fields(model: type[models.Model]) -> tuple:
    """The fields an INSERT writes: every concrete field but an auto-increment primary key."""
    return tuple(f for f in model._meta.concrete_fields if not (f.primary_key and isinstance(f, models.AutoField)))


@lru_cache(maxsize=64)
def columns(model: type[models.Model], fields: tuple | None = None) -> str:
    quote = connection.ops.quote_name
    return ", ".join(quote(f.column) for f in (fields if fields is not None else insert_fields(model)))


def table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@lru_cache(maxsize=64)
def casts(fields: tuple) -> tuple[str, ...]:
    """Each field's SQL type, for `%s::type` (INSERT … SELECT does not coerce untyped parameters like VALUES)."""
    return tuple(f.cast_db_type(connection) for f in fields)


def _json(value):
    return None if value is None else json.dumps(value, default=str)


def _same(value):
    return value


def _sqlite_datetime(value):
    """SQLite's text for an aware datetime, as Django's adapt_datetimefield_value writes it when the connection's
    time zone is UTC, without its per-call lookups (it was a tenth of a step commit's Python time)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return str(value)


def _uuid_hex(value):
    if value is None:
        return None
    return value.hex if isinstance(value, uuid.UUID) else uuid.UUID(str(value)).hex


@lru_cache(maxsize=256)
def _preparer(field: models.Field, vendor: str):
    """How `field`'s values are handed to the driver: `get_db_prep_save` for most; for the types the hot
    statements write on every step, the same conversion without its per-call checks (it was most of a
    commit's Python time)."""
    target = field.target_field if field.is_relation else field
    if isinstance(target, models.JSONField):
        return _json
    if isinstance(target, models.DateTimeField):
        if vendor == "postgresql":
            return _same
        if vendor == "sqlite" and settings.USE_TZ and connection.timezone == dt.UTC:
            return _sqlite_datetime
        return lambda value: connection.ops.adapt_datetimefield_value(value)
    if isinstance(target, models.UUIDField):
        if vendor == "postgresql":
            return _same  # the statements cast to uuid
        return _uuid_hex
    if isinstance(target, models.CharField | models.IntegerField | models.BooleanField):
        return _same
    return lambda value: field.get_db_prep_save(value, connection)


def prep(field: models.Field, value):
    return _preparer(field, connection.vendor)(value)


@lru_cache(maxsize=64)
def _preparers(fields: tuple, vendor: str) -> tuple:
    return tuple(_preparer(f, vendor) for f in fields)


def preparers(fields: tuple) -> tuple:
    """`prep` for each of `fields`, looked up once (for rows written many at a time)."""
    return _preparers(fields, connection.vendor)


def values_of(obj: models.Model, fields=None) -> list:
    """An unsaved model instance's values for an INSERT, as the ORM would write them (defaults, auto_now_add)."""
    if fields is not None:
        return [convert(f.pre_save(obj, True)) for f, convert in zip(fields, preparers(fields), strict=True)]
    return [
        convert(getattr(obj, attname) if attname else f.pre_save(obj, True))
        for attname, f, convert in _insert_plan(type(obj), connection.vendor)
    ]


@lru_cache(maxsize=64)
def _insert_plan(model: type[models.Model], vendor: str) -> tuple:
    """Per field of an INSERT: (its attribute name where its pre_save is the plain read, the field, its conversion).
    Looked up by model: hashing a tuple of thirty fields for `preparers` cost more than converting the values."""
    return tuple(
        (f.attname if type(f).pre_save is models.Field.pre_save else None, f, _preparer(f, vendor))
        for f in insert_fields(model)
    )


VALUES_MAX = 40


def rows_source(types: tuple[str, ...], rows: list[list]) -> tuple[str, list]:
    """A FROM item for `rows` (one value per column of `types`) and its parameters. Up to VALUES_MAX values
    (two steps, eight events): a VALUES list, the cheapest to send (an array costs psycopg twice the CPU of
    its values sent one by one). More: one array per column (unnest, in binary so that elements are not escaped
    one by one), so that the statement's text and parameter count stay the same however many rows there are:
    PostgreSQL plans each new text anew, and psycopg keeps a statement parsed only up to 128 parameters
    (`_keep_statements_parsed`): three sources at their most and a run's fields stay under it."""
    if len(rows) * len(types) <= VALUES_MAX:
        one = "(" + ", ".join(f"%s::{kind}" for kind in types) + ")"
        return f"(VALUES {', '.join([one] * len(rows))})", [value for row in rows for value in row]
    arrays = ", ".join(f"%b::{kind}[]" for kind in types)
    return f"unnest({arrays})", [list(column) for column in zip(*rows, strict=True)]


def loaded(model: type[models.Model], obj: models.Model) -> models.Model:
    """`obj`, just written by a hand-written statement, as the ORM would load it (Model.from_db): saving it
    again updates its row."""
    attnames, _ = _row_plan(model, connection.vendor)
    return model.from_db(connection.alias, attnames, [getattr(obj, name) for name in attnames])


def from_row(model: type[models.Model], row) -> models.Model:
    """An instance from a row of all of `model`'s columns read by a hand-written statement, as the ORM would
    load it: each column converted as the ORM converts it, then Model.from_db."""
    attnames, converters = _row_plan(model, connection.vendor)
    return model.from_db(connection.alias, attnames, _convert(converters, row))


def converted(fields: tuple, row) -> list:
    """A row's values (one per field) as the ORM would hand them over: the database backend's conversions
    (SQLite returns UUIDs, datetimes and booleans as text and numbers) and each field's own (JSON)."""
    return _convert(_converters(fields, connection.vendor), row)


def _convert(converters: tuple, row) -> list:
    return [
        value if value is None or not convert else _apply(convert, value)
        for convert, value in zip(converters, row, strict=True)
    ]


@lru_cache(maxsize=64)
def _row_plan(model: type[models.Model], vendor: str) -> tuple[list[str], tuple]:
    """(attribute names, converters) of all of `model`'s columns, looked up by model (hashing its fields for
    `_converters`' cache on every row cost more than converting it)."""
    fields = tuple(model._meta.concrete_fields)
    return [f.attname for f in fields], _converters(fields, vendor)


def _apply(convert: tuple, value):
    for fn, expression in convert:
        value = fn(value, expression, connection)
    return value


@lru_cache(maxsize=64)
def _converters(fields: tuple, vendor: str) -> tuple:
    """Per field, the (converter, expression) pairs Django's SQL compiler would apply to its column."""
    found = []
    for f in fields:
        col = f.get_col(f.model._meta.db_table)
        found.append(
            tuple((fn, col) for fn in connection.ops.get_db_converters(col) + col.get_db_converters(connection))
        )
    return tuple(found)


def cursor():
    """A psycopg cursor with server-side parameter binding, for statements run hundreds of times a second.

    Django's own cursors bind on the client: every value is quoted into the SQL text, which PostgreSQL then
    parses and plans again on each call. Here values travel apart from the text, and psycopg prepares a
    statement once it has seen it a few times, so PostgreSQL skips parsing and planning too."""
    import psycopg

    _keep_statements_parsed()
    connection.ensure_connection()
    # Django opens its connections with a client-binding cursor factory: ask for the plain cursor by name.
    return psycopg.Cursor(connection.connection)


@lru_cache(maxsize=1)
def _keep_statements_parsed() -> None:
    """psycopg keeps a statement's text parsed (split at its placeholders) only if it has at most 50 parameters:
    ORM-made statements of ever-varying shapes would flood its cache. These statements have few shapes
    (`rows_source`), and a run's last commit (the run, its step's outcome, its events) has 50 to 70: parsing it
    again was about 90 µs of every run's commit. psycopg reads the limit on each execution."""
    from psycopg import _queries

    _queries.MAX_CACHED_STATEMENT_PARAMS = max(_queries.MAX_CACHED_STATEMENT_PARAMS, 128)


def fetch_one(statement: str, params: list) -> tuple | None:
    """The first row of a hand-written SELECT (a prepared statement on PostgreSQL), or None. Its values are as
    the driver returns them: `converted` makes them what the ORM would."""
    if is_postgresql():
        with cursor() as c:
            c.execute(statement, params, prepare=True)
            return c.fetchone()
    with connection.cursor() as c:
        c.execute(statement, params)
        return c.fetchone()


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


# The database connections (psycopg's, which live as long as the session) already set to commit asynchronously.
_async: weakref.WeakSet = weakref.WeakSet()


def async_commits() -> None:
    """On PostgreSQL, let this connection's commits skip waiting for the WAL flush.

    Per-step commits happen hundreds of times a second; waiting for fsync costs ~5-20 ms each on
    ordinary disks. A database *server* crash may then lose the last fraction of a second of
    steps, which the engine simply runs again (same idempotency keys); a worker crash loses
    nothing committed; a lost terminal state makes the reaper resume the run, which finishes it
    again. RUN_SYNCHRONOUS_COMMIT=true keeps every commit durable."""
    if connection.vendor != "postgresql" or settings.RUN_SYNCHRONOUS_COMMIT:
        return
    connection.ensure_connection()
    raw = connection.connection
    if raw in _async:
        return
    with connection.cursor() as c:
        c.execute("SET synchronous_commit TO off")
    _async.add(raw)
