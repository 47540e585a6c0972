"""Real Celery worker processes for queue-mode tests: a worker on a queue of its own, serving the test
database, killed with its process group at the end."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.db import connection


def redis_url(db: int) -> str:
    """The suite's Redis server (REDIS_URL), database `db`: a test module's own broker."""
    base = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0]
    return f"{base}/{db}"


def database_url() -> str:
    """The test database, for processes started by the test."""
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def start_worker(
    name: str,
    *,
    queue: str,
    broker_url: str,
    log_path: Path,
    concurrency: int = 1,
    loglevel: str = "INFO",
    env: dict | None = None,
    include: str | None = None,
) -> subprocess.Popen:
    """`celery worker` on `queue` in a session of its own (so stop_workers kills its pool too)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "runs.tests.worker_settings",
        "TRELLIS_TEST_QUEUE": queue,
        "DATABASE_URL": database_url(),
        "REDIS_URL": broker_url,
        "TRELLIS_EXECUTOR": "celery",
        "DEBUG": "false",
        **(env or {}),
    }
    cmd = [
        str(Path(sys.executable).with_name("celery")),
        *("-A", "trellis", "worker", "-n", f"{name}@%h", f"--concurrency={concurrency}", f"--loglevel={loglevel}"),
        *("--without-gossip", "--without-mingle", "-Q", queue),
        *(("-I", include) if include else ()),
    ]
    log = open(log_path, "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        cmd, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop_workers(*procs: subprocess.Popen | None, grace_s: float = 0) -> None:
    """SIGKILL each worker's process group (after SIGTERM and `grace_s` to finish, when given)."""
    running = [p for p in procs if p is not None and p.poll() is None]
    if grace_s:
        for proc in running:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in running:
            try:
                proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                pass
    for proc in running:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
