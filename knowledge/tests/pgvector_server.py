"""A throwaway PostgreSQL server with pgvector, for the pgvector tests and bench when the main server has no
`vector` extension: the PostgreSQL 16 + pgvector binaries that the `pgserver` package ships (PyPI wheel,
requirements-dev.txt), started on a free loopback port. PostgreSQL refuses to run as root: as root it runs
as the `postgres` system user."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from runs.testing.live_server import free_port


class Unavailable(Exception):
    pass


def _binaries() -> Path:
    try:
        import pgserver
    except ImportError:
        raise Unavailable("the pgserver package (PostgreSQL 16 + pgvector binaries) is not installed") from None
    bin_dir = Path(pgserver.__file__).parent / "pginstall" / "bin"
    if not (bin_dir / "postgres").exists():
        raise Unavailable(f"pgserver has no PostgreSQL binaries at {bin_dir}")
    return bin_dir


def _as_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise Unavailable("running as root and there is no `postgres` user to run PostgreSQL as") from None
    return ["runuser", "-u", "postgres", "--"]


@contextlib.contextmanager
def pgvector_server() -> Iterator[str]:
    """Yields the URL of a fresh server (superuser `postgres`, trust auth on loopback)."""
    bin_dir, prefix = _binaries(), _as_user()
    root = Path(tempfile.mkdtemp(prefix="trellis-pgvector-"))
    if prefix:
        shutil.chown(root, "postgres")
    port = free_port()
    proc = None
    try:
        subprocess.run(
            [*prefix, str(bin_dir / "initdb"), "-D", str(root / "data"), "-U", "postgres", "--auth=trust"],
            check=True,
            capture_output=True,
        )
        proc = subprocess.Popen(
            [*prefix, str(bin_dir / "postgres"), "-D", str(root / "data"), "-p", str(port), "-h", "127.0.0.1"]
            + ["-k", str(root), "-c", "fsync=off", "-c", "max_connections=60"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"postgres://postgres@127.0.0.1:{port}/postgres"
        deadline = time.monotonic() + 30
        while True:
            ready = subprocess.run(
                [str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)], capture_output=True
            )
            if ready.returncode == 0:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise Unavailable("the pgvector PostgreSQL server did not start")
            time.sleep(0.2)
        yield url
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(root, ignore_errors=True)
