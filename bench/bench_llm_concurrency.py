"""Many runs in flight: N webhook runs of start → agent → end against a model that answers after exactly 1 s
(runs/testing/slow_model.py, asyncio on loopback). Three set-ups, side by side from the same run of the bench:

* default mode (one uvicorn process, SQLite, the in-process executor) with the parking engine;
* the same with the previous path (a thread per run, TRELLIS_INLINE_PARKING=false);
* queue mode: one uvicorn process and ONE Celery worker process (threads pool, its default message slots),
  PostgreSQL (database `trellis_bench_llm`, recreated) and Redis (db BENCH_REDIS_DB, default 9, flushed).

For each:

* peak model calls in flight (counted by the stub),
* runs completed per second (N / time from the first webhook to the last run finished),
* webhook accept latency p50 / p99 while the calls are in flight,
* RSS growth per in-flight run of the process that runs them (the web process, or the worker),
* CPU time per run of Trellis's processes (web + worker): unlike the rates, load from other processes on the
  machine barely moves it; and that of the runs' process alone (the worker in queue mode, which one core bounds),
* memory per in-flight run: then BENCH_MEM_N (default 1000) runs of a workflow whose model (`hold`) answers only
  after 120 s, so that every accepted run is in flight at once; RSS growth of the runs' process divided by the
  calls in flight (above, the runs accepted but not started yet count too).

Run: .venv/bin/python bench/bench_llm_concurrency.py  (BENCH_N runs, default 2000; BENCH_LATENCY_S, default 1;
BENCH_MODES, default "parking,thread,queue").
Asserts nothing (CONVENTIONS 17).
"""

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from loadgen import Connection  # noqa: E402

from runs.testing import slow_model  # noqa: E402
from runs.testing.databases import recreate_database as recreate_pg  # noqa: E402
from runs.testing.graphs import agent_graph  # noqa: E402
from runs.testing.live_server import free_port, start_uvicorn, stop_processes, wait_until_answers  # noqa: E402
from runs.testing.slow_model import HOLD_MODEL  # noqa: E402

N = int(os.environ.get("BENCH_N", "2000"))
LATENCY_S = float(os.environ.get("BENCH_LATENCY_S", "1.0"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "50"))
MODES = os.environ.get("BENCH_MODES", "parking,thread,queue").split(",")
MEM_N = int(os.environ.get("BENCH_MEM_N", "1000"))
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/trellis_bench_llm")
REDIS_DB = int(os.environ.get("BENCH_REDIS_DB", "9"))

GRAPH = agent_graph(instructions="Answer: {{ workflow.input.message }}")


def base_env(db_path: str, model_port: int) -> dict:  # db_path: a SQLite file
    return {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE")},
        "DJANGO_SETTINGS_MODULE": "trellis.settings",
        "DATABASE_URL": f"sqlite:///{db_path}",
        "TRELLIS_EXECUTOR": "inline",
        "TRELLIS_WEBHOOK_RATE_LIMIT": "0",
        "OPENAI_API_KEY": "bench-key",
        "OPENAI_BASE_URL": f"http://127.0.0.1:{model_port}/v1",
        "TRELLIS_RUN_REAPER_INTERVAL_S": "0",
        "TRELLIS_SCHEDULER": "off",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "SECRET_KEY": "bench-secret-key-0123456789-0123456789-0123456789",
        "TRELLIS_ENCRYPTION_KEY": "ZmRlZmF1bHQtdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE=",
    }


def publish(env: dict, graphs: dict[str, dict]) -> tuple[dict[str, str], str]:
    """Migrate the database in `env`, then in one new workspace publish each graph as a workflow of that name with
    a webhook trigger without auth. Returns ({name: trigger key}, an API token of the workspace). The other LLM
    benches (bench_ttft, bench_default_tail) set up the same way."""
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    script = f"""
import django, json
django.setup()
from accounts.services import api_token_create, user_create, workspace_create
from builder.models import Workflow, WorkflowVersion
from runs.triggers.services import trigger_create
user = user_create(email="bench-{uuid.uuid4().hex[:6]}@example.com", password="bench-password-123")
ws = workspace_create(name="Bench", owner=user)
keys = {{}}
for name, graph in json.loads({json.dumps(graphs)!r}).items():
    wf = Workflow.objects.create(workspace=ws, name=name, draft_graph=graph, created_by=user)
    v = WorkflowVersion.objects.create(workflow=wf, number=1, graph=graph, checksum="0" * 64)
    wf.published_version = v
    wf.save(update_fields=["published_version"])
    keys[name] = trigger_create(workflow=wf, by=user, rate_limit_per_minute=0, auth_mode="none")[0].key
print(json.dumps({{"keys": keys, "token": api_token_create(workspace=ws, user=user, name="bench")[1]}}))
"""
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    made = json.loads(out.stdout.strip().splitlines()[-1])
    return made["keys"], made["token"]


def prepare(env: dict) -> dict[str, str]:
    """The workflows 'Ask' (start → agent → end) and 'Hold' (the same, its model answering after 120 s)
    published; returns their triggers' keys."""
    hold = json.loads(json.dumps(GRAPH))
    hold["nodes"][1]["config"]["model"] = HOLD_MODEL
    return publish(env, {"Ask": GRAPH, "Hold": hold})[0]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_s(pid: int) -> float:
    """User + system CPU seconds the process has used (a figure that load from other processes barely moves)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def query(db: str, sql: str) -> list:
    """`db`: a SQLite file's path or a postgres:// URL."""
    if db.startswith("postgres://"):
        import psycopg

        with psycopg.connect(db.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
            return conn.execute(sql).fetchall()
    import sqlite3

    with sqlite3.connect(db, timeout=30) as conn:
        return conn.execute(sql).fetchall()


def finished_runs(db: str) -> int:
    return query(db, "SELECT count(*) FROM runs_run WHERE status IN ('succeeded', 'failed')")[0][0]


def failed_runs(db: str) -> list:
    return query(db, "SELECT error FROM runs_run WHERE status = 'failed' LIMIT 3")


async def fire(port: int, key: str, n: int) -> list[float]:
    latencies: list[float] = []
    left = iter(range(n))

    async def client() -> None:
        connection = Connection(port)
        try:
            for i in left:
                started = time.perf_counter()
                status, answer = await connection.post(f"/hooks/{key}", {"message": f"question {i}"})
                latencies.append((time.perf_counter() - started) * 1000)
                if status != 202:
                    raise RuntimeError(f"webhook answered {status}: {str(answer)[:200]}")
        finally:
            await connection.close()

    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return latencies


def hold_in_flight(port: int, key: str, model_port: int, pid: int) -> tuple[int, float]:
    """Send MEM_N runs whose model call lasts 120 s, wait until they are all in flight (at most 90 s): (calls in
    flight, RSS growth of process `pid` per call in flight, KB)."""

    before_calls = stub_stats(model_port)["in_flight"]
    base = rss_kb(pid)
    asyncio.run(fire(port, key, MEM_N))
    deadline = time.monotonic() + 90
    held, grew_at = 0, time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - grew_at < 10:  # stop when it stops growing
        now_held = stub_stats(model_port)["in_flight"] - before_calls
        if now_held > held:
            held, grew_at = now_held, time.monotonic()
        if held >= MEM_N:
            break
        time.sleep(0.5)
    time.sleep(1)
    return held, (rss_kb(pid) - base) / held if held else 0.0


def stub_stats(port: int, reset: bool = False) -> dict:
    import httpx

    for attempt in range(3):  # the stub serves thousands of streams: a poll may find its connection dropped
        try:
            response = httpx.request("POST" if reset else "GET", f"http://127.0.0.1:{port}/stats", timeout=10)
            return response.json()
        except httpx.TransportError:
            if attempt == 2:
                raise
            time.sleep(0.2)
    raise AssertionError("unreachable")


def measure(mode: str, model_port: int) -> dict:
    tmp = tempfile.mkdtemp(prefix="trellis-bench-llm-")
    if mode == "queue":
        db = PG_URL
        recreate_pg(db)
        redis_url = f"redis://127.0.0.1:6379/{REDIS_DB}"
        import redis

        redis.Redis.from_url(redis_url).flushdb()
        env = {
            **base_env(db, model_port),
            "DATABASE_URL": db,
            "REDIS_URL": redis_url,
            "TRELLIS_EXECUTOR": "celery",
            "DB_CONN_MAX_AGE": "600",
        }
    else:
        db = os.path.join(tmp, "bench.sqlite3")
        env = {**base_env(db, model_port), "TRELLIS_INLINE_PARKING": "true" if mode == "parking" else "false"}
    keys = prepare(env)
    key = keys["Ask"]
    port = free_port()
    web = start_uvicorn(port, args=["--log-level", "warning", "--no-access-log"], cwd=ROOT, env=env)
    worker = None
    if mode == "queue":
        celery = str(Path(sys.executable).with_name("celery"))
        worker = subprocess.Popen(
            [celery, "-A", "trellis", "worker", "--loglevel=WARNING", "--without-gossip", "--without-mingle"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(tmp, "worker.log"), "w"),  # noqa: SIM115 - closed with the process
        )
    runner = worker or web
    try:
        wait_until_answers(f"http://127.0.0.1:{port}/healthz", proc=web)
        # Warm up (imports, the first model client), then measure from a settled process.
        asyncio.run(fire(port, key, 20))
        deadline = time.monotonic() + 60
        while finished_runs(db) < 20 and time.monotonic() < deadline:
            time.sleep(0.2)
        stub_stats(model_port, reset=True)
        base_rss = rss_kb(runner.pid)
        base_cpu = cpu_s(web.pid) + (cpu_s(worker.pid) if worker else 0.0)
        base_runner_cpu = cpu_s(runner.pid)
        peak_rss = base_rss
        started = time.monotonic()
        latencies = asyncio.run(fire(port, key, N))
        accepted_s = time.monotonic() - started
        peak_in_flight = 0
        rss_at_peak = base_rss
        deadline = time.monotonic() + max(120.0, N * LATENCY_S / 4)
        while time.monotonic() < deadline:
            stats = stub_stats(model_port)
            if stats["in_flight"] >= peak_in_flight:
                peak_in_flight = stats["in_flight"]
                rss_at_peak = rss_kb(runner.pid)
            peak_rss = max(peak_rss, rss_kb(runner.pid))
            if finished_runs(db) >= N + 20:
                break
            time.sleep(0.1)
        elapsed = time.monotonic() - started
        done = finished_runs(db) - 20
        used_cpu = cpu_s(web.pid) + (cpu_s(worker.pid) if worker else 0.0) - base_cpu
        runner_cpu = cpu_s(runner.pid) - base_runner_cpu
        stats = stub_stats(model_port)
        failures = failed_runs(db)
        held, kb_per_held = hold_in_flight(port, keys["Hold"], model_port, runner.pid)
    finally:
        stop_processes(*(p for p in (web, worker) if p is not None))
    peak = max(stats["peak"], peak_in_flight)
    return {
        "peak_in_flight": peak,
        "runs_per_s": done / elapsed,
        "completed": done,
        "elapsed_s": elapsed,
        "accept_p50_ms": statistics.median(latencies),
        "accept_p99_ms": statistics.quantiles(latencies, n=100)[98],
        "accepted_per_s": N / accepted_s,
        "rss_kb_per_run": (rss_at_peak - base_rss) / peak if peak else 0.0,
        "peak_rss_mb": peak_rss / 1024,
        "cpu_ms_per_run": used_cpu * 1000 / max(done, 1),
        "runner_cpu_ms_per_run": runner_cpu * 1000 / max(done, 1),
        "held": held,
        "kb_per_held": kb_per_held,
        "failures": failures,
    }


def main() -> None:
    stub, model_port = slow_model.start_process(LATENCY_S)
    try:
        names = {"parking": "default: parking", "thread": "default: thread/run (old)", "queue": "queue: 1 worker"}
        results = {names[mode]: measure(mode, model_port) for mode in MODES}
    finally:
        stop_processes(stub)
    print(f"\n{N} webhook runs of start → agent → end, model latency {LATENCY_S:g} s:")
    rows = [
        ("peak model calls in flight", "peak_in_flight", "{:.0f}"),
        ("runs completed per second", "runs_per_s", "{:.1f}"),
        ("runs completed", "completed", "{:.0f}"),
        ("webhook accept p50 (ms)", "accept_p50_ms", "{:.1f}"),
        ("webhook accept p99 (ms)", "accept_p99_ms", "{:.1f}"),
        ("webhooks accepted per second", "accepted_per_s", "{:.0f}"),
        ("RSS growth per in-flight run (KB)", "rss_kb_per_run", "{:.1f}"),
        ("peak RSS of the runs' process (MB)", "peak_rss_mb", "{:.0f}"),
        ("CPU per run, web + worker (ms)", "cpu_ms_per_run", "{:.2f}"),
        ("CPU per run, the runs' process (ms)", "runner_cpu_ms_per_run", "{:.2f}"),
        (f"runs held in flight (of {MEM_N})", "held", "{:.0f}"),
        ("RSS growth per run held in flight (KB)", "kb_per_held", "{:.1f}"),
    ]
    names = list(results)
    print(f"  {'':<36}" + "".join(f"{name:>26}" for name in names))
    for label, key, fmt in rows:
        print(f"  {label:<36}" + "".join(f"{fmt.format(results[name][key]):>26}" for name in names))
    for name in names:
        if results[name]["failures"]:
            print(f"  {name}: failed runs, e.g. {results[name]['failures'][:1]}")


if __name__ == "__main__":
    main()
