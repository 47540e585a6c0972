"""Webhook benchmark in queue mode: uvicorn + a Celery worker + PostgreSQL + Redis, all on loopback.

1. Sync round trip: one client fires signed webhooks with `?wait=10` at a 3-node non-LLM workflow
   (start → transform → end) and times each answer (the run executed by the worker). p50 / p99.
   Then 50 such clients at once for half the time: sync answers per second and their latency.
2. Accepted webhooks per second, async mode: 50 concurrent keep-alive clients post signed webhooks
   for 20 s; every answer must be 202 (the run is created, queued and logged). Three times: with the
   worker executing the runs on the same two cores; with the worker at nice 10 (the web processes
   first, as docker-compose's cpu_shares set it up); and with the worker paused (ingestion alone, as
   when workers have machines of their own).

Run: .venv/bin/python bench/bench_webhooks.py  (uses database trellis_bench_webhooks and Redis DB 7;
BENCH_WEB_WORKERS, BENCH_WORKER_CONCURRENCY, BENCH_SECONDS, BENCH_CLIENTS, BENCH_SYNC_N tune it).
Prints its figures; asserts nothing about them (CONVENTIONS 17).
"""

import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runs.testing.databases import recreate_database  # noqa: E402
from runs.testing.graphs import START_SCHEMA, line, node, start  # noqa: E402
from runs.testing.live_server import free_port, start_uvicorn, stop_processes, wait_until_answers  # noqa: E402

DB_NAME = os.environ.get("BENCH_DB", "trellis_bench_webhooks")
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "2"))
WORKER_CONCURRENCY = int(os.environ.get("BENCH_WORKER_CONCURRENCY", "2"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "20"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "50"))
SYNC_N = int(os.environ.get("BENCH_SYNC_N", "300"))

ENV = {
    **os.environ,
    "DJANGO_SETTINGS_MODULE": "trellis.settings",
    "DATABASE_URL": f"{PG}/{DB_NAME}",
    "REDIS_URL": REDIS_URL,
    "TRELLIS_EXECUTOR": "celery",
    "DB_CONN_MAX_AGE": "300",
    "TRELLIS_WEBHOOK_RATE_LIMIT": "0",
    "TRELLIS_SCHEDULER": "off",
    "DEBUG": "false",
    "LOG_LEVEL": "WARNING",
    "SECRET_KEY": "bench-secret-key-0123456789-0123456789-0123456789",
    "TRELLIS_ENCRYPTION_KEY": "ZmRlZmF1bHQtdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE=",
}
os.environ.update(ENV)  # this process creates the bench data with the same settings

GRAPH = line(
    start(START_SCHEMA),
    node("shape", "transform", output={"echo": "workflow.input.message", "size": "size(workflow.input.message)"}),
    node("done", "end", output={"reply": "nodes.shape.output.echo", "size": "nodes.shape.output.size"}),
)


def _run(cmd: list[str], **kwargs) -> None:
    subprocess.run(cmd, cwd=ROOT, env=ENV, check=True, **kwargs)


def prepare_database() -> None:
    recreate_database(f"{PG}/{DB_NAME}")
    _run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"])
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def create_triggers() -> tuple[str, str]:
    """A published 3-node workflow and a signature trigger on it; returns (key, secret)."""
    import django

    django.setup()
    from accounts.services import user_create, workspace_create
    from runs.testing.workflows import saved_workflow
    from runs.triggers.services import trigger_create

    user = user_create(email=f"bench-{uuid.uuid4().hex[:8]}@example.com", password="bench-password-123")
    workspace = workspace_create(name="Bench", owner=user)
    workflow = saved_workflow(workspace=workspace, by=user, graph=GRAPH, name="Echo")
    trigger, secret = trigger_create(workflow=workflow, by=user, rate_limit_per_minute=0)
    from django.db import connections

    connections.close_all()
    return trigger.key, secret


def start_services(port: int) -> list[subprocess.Popen]:
    web = start_uvicorn(
        port,
        args=["--workers", str(WEB_WORKERS), "--log-level", "warning", "--no-access-log"],
        cwd=ROOT,
        env=ENV,
    )
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "trellis",
            "worker",
            "--concurrency",
            str(WORKER_CONCURRENCY),
            "--loglevel",
            "warning",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=ENV,
    )
    return [web, worker]


# --- a small keep-alive HTTP/1.1 client: cheap enough not to steal the server's CPU ------------------


def signed_request(port: int, key: str, secret: str, query: str = "") -> bytes:
    from trellis.signing import signed_headers

    body = json.dumps({"message": f"hello {uuid.uuid4().hex[:8]}"}).encode()
    headers = signed_headers(secret, f"msg_{uuid.uuid4().hex}", body)
    lines = [
        f"POST /hooks/{key}{query} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *[f"{k}: {v}" for k, v in headers.items()],
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for header in lines[1:]:
        if header.lower().startswith(b"content-length:"):
            length = int(header.split(b":", 1)[1])
    body = await reader.readexactly(length) if length else b""
    return status, body


async def sync_round_trips(port: int, key: str, secret: str) -> list[float]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    timings, failures = [], 0
    for i in range(SYNC_N + 20):
        request = signed_request(port, key, secret, "?wait=10")
        started = time.perf_counter()
        writer.write(request)
        status, body = await read_response(reader)
        elapsed = time.perf_counter() - started
        ok = status == 200 and json.loads(body)["status"] == "succeeded"
        failures += not ok
        if i >= 20:  # the first calls warm connections and caches
            timings.append(elapsed * 1000)
    writer.close()
    if failures:
        print(f"  sync: {failures} calls did not answer 200/succeeded")
    return timings


async def flood(port: int, key: str, secret: str, query: str = "", seconds: float = SECONDS) -> tuple:
    """CLIENTS keep-alive clients post for `seconds`: (answers by status, elapsed s, sorted latencies in ms)."""
    counts: dict = {}
    latencies: list[float] = []
    # Signed before the clock starts (signatures stay valid for 5 minutes): the client shares the
    # machine's two cores with the server, so it should spend as little of them as it can.
    ready = [signed_request(port, key, secret, query) for _ in range(int(seconds * 1500))]
    stop_at = time.monotonic() + seconds

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.monotonic() < stop_at:
            sent = time.perf_counter()
            writer.write(ready.pop() if ready else signed_request(port, key, secret, query))
            try:
                status, _ = await read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                counts[type(exc).__name__] = counts.get(type(exc).__name__, 0) + 1
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            latencies.append((time.perf_counter() - sent) * 1000)
            counts[status] = counts.get(status, 0) + 1
        writer.close()

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return counts, time.monotonic() - started, sorted(latencies)


def sync_flood_phase(processes, port: int, key: str, secret: str) -> None:
    """CLIENTS clients waiting for their runs' results (`?wait=`) at once: answers/s and latency under load."""
    cpu0 = cpu_snapshot(processes)
    counts, elapsed, latencies = asyncio.run(flood(port, key, secret, "?wait=10", seconds=SECONDS / 2))
    cpu1 = cpu_snapshot(processes)
    answered = counts.get(200, 0)
    errors = sum(v for k, v in counts.items() if k != 200)
    p50, p99 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99)]
    print(
        f"sync, {CLIENTS} clients at once for {elapsed:.1f} s: {answered} results (200), {errors} errors "
        f"-> {answered / elapsed:.0f} sync webhooks/s, p50 {p50:.0f} ms, p99 {p99:.0f} ms"
    )
    print(cpu_line(cpu0, cpu1, answered))


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def cpu_snapshot(processes: list[subprocess.Popen]) -> dict:
    """CPU seconds used so far by the web processes, the worker processes and our PostgreSQL backends.

    The machine is shared with other work, so CPU per request says more than wall-clock throughput."""
    import psycopg

    web, worker = processes
    with psycopg.connect(f"{PG}/{DB_NAME}") as conn:
        pg_pids = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [DB_NAME])]
    return {
        "web": sum(_cpu_s(p) for p in [web.pid, *_children(web.pid)]),
        "worker": sum(_cpu_s(p) for p in [worker.pid, *_children(worker.pid)]),
        "postgres": sum(_cpu_s(p) for p in pg_pids),
    }


def cpu_line(before: dict, after: dict, count: int) -> str:
    used = {k: (after[k] - before[k]) * 1000 / max(count, 1) for k in before}
    total = sum(used.values())
    return (
        f"  CPU per call: web {used['web']:.2f} ms, worker {used['worker']:.2f} ms, "
        f"postgres {used['postgres']:.2f} ms (total {total:.2f} ms)"
    )


def run_counts() -> dict:
    import psycopg

    with psycopg.connect(f"{PG}/{DB_NAME}") as conn:
        rows = conn.execute("SELECT status, count(*) FROM runs_run GROUP BY status").fetchall()
    return dict(rows)


def _renice(pids: list[int], niceness: int) -> None:
    """Every thread of these processes (Linux applies a nice value per thread)."""
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                os.setpriority(os.PRIO_PROCESS, int(task.name), niceness)
            except (ProcessLookupError, PermissionError):
                continue


def flood_phase(processes, port: int, key: str, secret: str, label: str, *, count_runs: bool = True) -> None:
    """One 50-client async flood; prints accepted/s, CPU per call, and the runs the worker finished meanwhile."""
    before = run_counts() if count_runs else {}
    cpu0 = cpu_snapshot(processes)
    counts, elapsed, _ = asyncio.run(flood(port, key, secret))
    cpu1 = cpu_snapshot(processes)
    accepted = counts.get(202, 0)
    errors = sum(v for k, v in counts.items() if k != 202)
    print(
        f"async, {label}: {CLIENTS} clients for {elapsed:.1f} s: {accepted} accepted (202), {errors} errors "
        f"-> {accepted / elapsed:.0f} accepted webhooks/s"
    )
    if errors:
        print(f"  answers: {counts}")
    print(cpu_line(cpu0, cpu1, accepted))
    web_ms = (cpu1["web"] - cpu0["web"]) * 1000 / max(accepted, 1)
    pg_ms = (cpu1["postgres"] - cpu0["postgres"]) * 1000 / max(accepted, 1)
    print(
        f"  accepting alone (web + postgres) costs {web_ms + pg_ms:.2f} CPU ms per webhook: "
        f"{2000 / max(web_ms + pg_ms, 0.001):.0f}/s on 2 otherwise idle cores"
    )
    if count_runs:
        finished = run_counts().get("succeeded", 0) - before.get("succeeded", 0)
        print(f"  meanwhile the worker finished {finished} runs ({finished / elapsed:.0f}/s)")
    print(f"  load average at the end: {os.getloadavg()[0]:.1f} (other work on this machine competes for the CPUs)")


def main() -> int:
    print(
        f"queue mode: uvicorn x{WEB_WORKERS}, celery worker concurrency {WORKER_CONCURRENCY}, "
        f"PostgreSQL + Redis on loopback, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} before start"
    )
    prepare_database()
    key, secret = create_triggers()
    port = free_port()
    processes = start_services(port)
    try:
        # A cheap probe: /hooks/ is answered straight on ASGI, while /healthz would ask the broker and worker.
        wait_until_answers(f"http://127.0.0.1:{port}/hooks/ready", proc=processes[0], timeout_s=30, method="POST")
        time.sleep(2)  # let the worker connect to the broker

        cpu0 = cpu_snapshot(processes)
        timings = asyncio.run(sync_round_trips(port, key, secret))
        cpu1 = cpu_snapshot(processes)
        timings.sort()
        p50 = statistics.median(timings)
        p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
        print(
            f"sync round trip (?wait=10, 3-node workflow run by the worker), {len(timings)} calls: "
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, mean {statistics.fmean(timings):.1f} ms"
        )
        print(cpu_line(cpu0, cpu1, len(timings) + 20))
        sync_flood_phase(processes, port, key, secret)

        flood_phase(processes, port, key, secret, "worker running")

        # The same with the worker yielding the CPU to the web processes (nice 10), as docker-compose sets it
        # up (cpu_shares): bursts are accepted at once and the queue is worked off with what is left.
        worker_pids = [processes[1].pid, *_children(processes[1].pid)]
        _renice(worker_pids, 10)
        try:
            flood_phase(processes, port, key, secret, "worker at nice 10")
        finally:
            _renice(worker_pids, 0)

        # Ingestion alone: the worker paused (SIGSTOP) while the clients post, as when workers run on other
        # machines; the runs wait in the queue and are executed once it continues.
        for pid in worker_pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            flood_phase(processes, port, key, secret, "worker paused", count_runs=False)
        finally:
            for pid in worker_pids:
                os.kill(pid, signal.SIGCONT)

    finally:
        stop_processes(*processes, timeout_s=15)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
