"""PostgreSQL databases of their own for benches and end-to-end tests, dropped and created afresh."""

import os
from urllib.parse import urlparse, urlunparse

import psycopg

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/trellis"


def sibling_url(suffix: str, base: str | None = None) -> str:
    """DATABASE_URL (or `base`) with `suffix` after its database name: a database beside the suite's."""
    base = base or os.environ.get("DATABASE_URL", DEFAULT_URL)
    parsed = urlparse(base)
    if not parsed.scheme.startswith("postgres"):
        raise RuntimeError(f"This needs DATABASE_URL to point at PostgreSQL, not {parsed.scheme or base!r}.")
    return urlunparse(parsed._replace(path=f"/{parsed.path.lstrip('/') or 'trellis'}{suffix}"))


def _admin(url: str) -> tuple[str, str]:
    """(the server's `postgres` database, the database name) of `url`."""
    parsed = urlparse(url)
    return urlunparse(parsed._replace(scheme="postgresql", path="/postgres")), parsed.path.lstrip("/")


def drop_database(url: str) -> None:
    admin, name = _admin(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def recreate_database(url: str) -> str:
    """Drops the database of `url` (other sessions too) and creates it empty; returns `url`."""
    drop_database(url)
    admin, name = _admin(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url
