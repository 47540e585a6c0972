"""A live Trellis server for tests, end-to-end tests and benchmarks: uvicorn serving
`trellis.asgi:application` on a free loopback port, a readiness wait, and a clean stop.

Two ways to run it, because the callers need different things:
* `live_server_thread()`: uvicorn in a thread of the calling process. Trigger tests use it so that
  the server shares the test process's Django settings and test database.
* `start_uvicorn()` / `uvicorn_subprocess()`: uvicorn in a process of its own, with its own environment
  (the e2e suite runs the server exactly as `make run` does; the webhook benchmark runs it with several
  workers beside a Celery worker).
Both take their port from `free_port()`; a subprocess is waited for with `wait_until_answers()`.
"""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

APP = "trellis.asgi:application"
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_until_answers(
    url: str, *, proc: subprocess.Popen | None = None, timeout_s: float = 60, method: str = "GET"
) -> None:
    """Polls `url` until it answers with any HTTP status. Raises when `proc` exits first or time runs out."""
    parts = urlsplit(url)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        conn = http.client.HTTPConnection(parts.hostname or HOST, parts.port or 80, timeout=2)
        try:
            conn.request(method, parts.path or "/", headers={"Content-Length": "0"} if method == "POST" else {})
            conn.getresponse().read()
            return  # it answers, whatever the status
        except (OSError, http.client.HTTPException):
            time.sleep(0.2)
        finally:
            conn.close()
    raise RuntimeError(f"{url} did not answer within {timeout_s}s")


def stop_processes(*procs: subprocess.Popen, timeout_s: float = 10) -> None:
    """Asks every process to stop (SIGTERM) at once, then waits for each; kills one that does not stop."""
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_uvicorn(
    port: int,
    *,
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    cwd: Path | str | None = None,
    python: str = sys.executable,
    stdout: IO | int | None = None,
    stderr: IO | int | None = None,
) -> subprocess.Popen:
    """Starts uvicorn serving the Trellis ASGI app on 127.0.0.1:`port` in a process of its own; does not wait."""
    return subprocess.Popen(
        [python, "-m", "uvicorn", APP, "--host", HOST, "--port", str(port), *args],
        cwd=cwd,
        env=env,
        stdout=stdout,
        stderr=stderr,
    )


@contextmanager
def uvicorn_subprocess(
    *,
    port: int | None = None,
    ready_path: str = "/healthz",
    timeout_s: float = 60,
    stop_timeout_s: float = 10,
    **options,
) -> Iterator[str]:
    """uvicorn in a subprocess on `port` (default: a free one; `options` as for `start_uvicorn`); yields
    its base URL once `ready_path` answers, and stops it on exit."""
    port = port or free_port()
    proc = start_uvicorn(port, **options)
    url = f"http://{HOST}:{port}"
    try:
        wait_until_answers(url + ready_path, proc=proc, timeout_s=timeout_s)
        yield url
    finally:
        stop_processes(proc, timeout_s=stop_timeout_s)


@contextmanager
def live_server_thread(*, timeout_s: float = 10) -> Iterator[str]:
    """uvicorn in a daemon thread of this process on a free port; yields its base URL once it listens.

    Needs Django configured (it imports the ASGI app). Readiness is uvicorn's own `started` flag rather
    than an HTTP probe: in-process it is exact and costs no request."""
    import uvicorn

    from trellis.asgi import application

    port = free_port()
    config = uvicorn.Config(application, host=HOST, port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-uvicorn", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + timeout_s
        while not server.started:
            if time.monotonic() >= deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        yield f"http://{HOST}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
