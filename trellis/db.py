"""Inserting a row together with the rows that belong to it, in one round trip, for hot write paths.

A webhook stores a run, its first event and a delivery-log line. Through the ORM that is a BEGIN,
three INSERTs and a COMMIT, and building the SQL costs more CPU than PostgreSQL spends running it.
`insert_together` writes them with one statement of data-modifying CTEs on PostgreSQL (atomic by
itself, no transaction needed) and an ordinary transaction elsewhere. Columns and values come from
the models' own fields (`pre_save`, `get_db_prep_save`), so a field added later is included.
"""

from __future__ import annotations

from functools import lru_cache

from django.db import IntegrityError, connections, models, transaction


@lru_cache(maxsize=32)
def insert_fields(model: type[models.Model]) -> tuple:
    # An auto-increment primary key is left to the database.
    return tuple(f for f in model._meta.concrete_fields if not (f.primary_key and isinstance(f, models.AutoField)))


@lru_cache(maxsize=32)
def _statement(primary: type[models.Model], dependents: tuple, alias: str) -> str:
    connection = connections[alias]
    quote = connection.ops.quote_name

    def columns(model) -> str:
        return ", ".join(quote(f.column) for f in insert_fields(model))

    fields = insert_fields(primary)
    sql = [
        f"WITH p AS (INSERT INTO {quote(primary._meta.db_table)} ({columns(primary)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT DO NOTHING RETURNING 1)"
    ]
    for i, model in enumerate(dependents):
        # INSERT … SELECT does not coerce untyped parameters like VALUES does: cast each to its column type.
        casts = ", ".join(f"%s::{f.cast_db_type(connection)}" for f in insert_fields(model))
        sql.append(
            f", d{i} AS (INSERT INTO {quote(model._meta.db_table)} ({columns(model)}) "
            f"SELECT {casts} WHERE EXISTS (SELECT 1 FROM p))"
        )
    sql.append(" SELECT count(*) FROM p")
    return "".join(sql)


def server_side_cursor(connection):
    """A psycopg cursor with server-side parameter binding, for statements run hundreds of times a second.

    Django's own cursors bind on the client: every value is quoted into the SQL text, which PostgreSQL then
    parses and plans again on each call. Here values travel apart from the text, and psycopg prepares a
    statement once it has seen it a few times, so PostgreSQL skips parsing and planning too."""
    import psycopg

    connection.ensure_connection()
    # Django opens its connections with a client-binding cursor factory: ask for the plain cursor by name.
    return psycopg.Cursor(connection.connection)


def insert_together(primary: models.Model, dependents: list[models.Model], *, using: str = "default") -> bool:
    """INSERT `primary`, and the `dependents` only if it went in. Returns False, writing nothing, when
    `primary` hits a unique constraint (an idempotency key seen before). Primary keys that the
    dependents point at must be set beforehand (UUIDs made in Python)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        with transaction.atomic(using=using):
            try:
                with transaction.atomic(using=using):
                    primary.save(force_insert=True, using=using)
            except IntegrityError:
                return False
            for obj in dependents:
                obj.save(force_insert=True, using=using)
        return True
    params = []
    for obj in (primary, *dependents):
        params += [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in insert_fields(type(obj))]
    sql = _statement(type(primary), tuple(type(obj) for obj in dependents), connection.alias)
    with server_side_cursor(connection) as cursor:
        cursor.execute(sql, params, prepare=True)
        inserted = cursor.fetchone()[0] == 1
    if inserted:
        primary._state.adding = False
        primary._state.db = using
    return inserted
