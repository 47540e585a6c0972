"""Engine benchmarks (issue 4). Prints figures; asserts nothing.

1. Engine overhead per node: a run of 100 `transform` nodes in a line (plus start and end, no I/O),
   in default mode (SQLite, in-process engine) and in queue mode (PostgreSQL, one Celery worker).
2. Throughput of a 3-node non-LLM workflow (start -> transform -> end) in queue mode, one worker.

Each mode runs in its own child process (Django settings are per process) against a throwaway
database. Queue mode needs PostgreSQL and Redis (BENCH_DATABASE_URL, BENCH_REDIS_URL).
Usage: python bench/bench_engine.py [--runs N] [--throughput-runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_BASE = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/trellis_bench_engine")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
# Message slots of the one worker (threads pool); the default is the product's (TRELLIS_WORKER_SLOTS).
CONCURRENCY = os.environ.get("BENCH_WORKER_CONCURRENCY")


def line_graph(n: int) -> dict:
    nodes = [{"id": "start", "type": "start", "name": "Start", "config": {"input_schema": {"type": "object"}}}]
    prev = "start"
    for i in range(n):
        expr = "workflow.input.x + 1" if i == 0 else f"nodes.{prev}.output.v + 1"
        nodes.append({"id": f"t{i}", "type": "transform", "name": f"T{i}", "config": {"output": {"v": expr}}})
        prev = f"t{i}"
    nodes.append({"id": "end", "type": "end", "name": "End", "config": {"output": {"v": f"nodes.{prev}.output.v"}}})
    pairs = zip(nodes, nodes[1:], strict=False)
    edges = [{"id": f"e{i}", "source": a["id"], "target": b["id"]} for i, (a, b) in enumerate(pairs)]
    return {"format": "trellis.graph/1", "nodes": nodes, "edges": edges}


# --- child processes ----------------------------------------------------------------------------


def _setup(database_url: str, redis_url: str, executor: str, extra: dict | None = None) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "trellis.settings",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "TRELLIS_EXECUTOR": executor,
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "DB_CONN_MAX_AGE": "60",
            **(extra or {}),
        }
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _workflow(graph: dict):
    from accounts.services import user_create, workspace_create
    from builder.models import Workflow

    user = user_create(email=f"bench{time.time_ns()}@example.com", password="bench-password-123")
    ws = workspace_create(name="Bench", owner=user)
    return Workflow.objects.create(workspace=ws, name="bench", draft_graph=graph, created_by=user)


def _new_run(wf, graph: dict, x: int = 0):
    from runs.models import Run

    return Run.objects.create(
        workspace_id=wf.workspace_id, workflow=wf, graph=graph, is_draft=True, input={"x": x}, last_seq=0
    )


def child_default(runs: int, batch_ms: int) -> dict:
    tmp = tempfile.mkdtemp(prefix="trellis-bench-")
    _setup(f"sqlite:///{tmp}/bench.sqlite3", "", "inline", {"TRELLIS_RUN_COMMIT_BATCH_MS": str(batch_ms)})
    from runs.models import Run
    from runs.process_engine import run_advance_now

    graph = line_graph(100)
    wf = _workflow(graph)
    per_node = []
    for i in range(runs + 1):
        run = _new_run(wf, graph, i)
        t0 = time.perf_counter()
        status = run_advance_now(str(run.pk))
        elapsed = time.perf_counter() - t0
        assert status == "succeeded", Run.objects.get(pk=run.pk).error
        assert Run.objects.get(pk=run.pk).output == {"v": i + 100}
        if i:  # the first run warms caches (compiled expressions, imports)
            per_node.append(elapsed / 102 * 1000)
    return {"ms_per_node_median": statistics.median(per_node), "ms_per_node_min": min(per_node)}


def _reset_pg(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _start_worker(batch_ms: int, log_path: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "trellis.settings",
        "DATABASE_URL": PG_BASE,
        "REDIS_URL": REDIS,
        "TRELLIS_EXECUTOR": "celery",
        "DB_CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
        "TRELLIS_RUN_COMMIT_BATCH_MS": str(batch_ms),
    }
    cmd = [
        str(Path(sys.executable).with_name("celery")),
        "-A",
        "trellis",
        "worker",
        "--loglevel=WARNING",
        "--without-gossip",
        "--without-mingle",
        # (not --without-heartbeat: with the threads pool, the consumer fetches the next message when its event
        # loop wakes, and without the heartbeat's timer that is up to 10 s after a slot frees)
        *([f"--concurrency={CONCURRENCY}"] if CONCURRENCY else []),
    ]
    log = open(log_path, "w")  # noqa: SIM115
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _wait_all(ids: list, timeout: float) -> float:
    from runs.models import Run

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = Run.objects.filter(pk__in=ids).exclude(status__in=["succeeded", "failed", "cancelled"]).count()
        if left == 0:
            return time.perf_counter()
        time.sleep(0.02)
    raise RuntimeError("runs did not finish in time")


def child_queue(runs: int, throughput_runs: int, batch_ms: int) -> dict:
    import redis

    _reset_pg(PG_BASE)
    redis.Redis.from_url(REDIS).flushdb()
    _setup(PG_BASE, REDIS, "celery", {"TRELLIS_RUN_COMMIT_BATCH_MS": str(batch_ms)})
    from runs.models import Run
    from runs.tasks import run_advance

    worker = _start_worker(batch_ms, Path(tempfile.gettempdir()) / "trellis-bench-worker.log")
    try:
        graph = line_graph(100)
        wf = _workflow(graph)
        # warm-up: the worker is up and every child has imported the engine
        warm = [_new_run(wf, graph, 0) for _ in range(4)]
        for r in warm:
            run_advance.delay(str(r.pk))
        _wait_all([r.pk for r in warm], 120)
        engine_ms, e2e_ms = [], []
        for i in range(runs):
            run = _new_run(wf, graph, i)
            t0 = time.perf_counter()
            run_advance.delay(str(run.pk))
            t1 = _wait_all([run.pk], 60)
            run.refresh_from_db()
            assert run.status == "succeeded" and run.output == {"v": i + 100}, run.error
            engine_ms.append((run.finished_at - run.started_at).total_seconds() * 1000 / 102)
            e2e_ms.append((t1 - t0) * 1000 / 102)
        small = {
            "format": "trellis.graph/1",
            "nodes": [
                {"id": "start", "type": "start", "name": "S", "config": {"input_schema": {"type": "object"}}},
                {"id": "t", "type": "transform", "name": "T", "config": {"output": {"y": "workflow.input.x * 2"}}},
                {"id": "end", "type": "end", "name": "E", "config": {"output": {"y": "nodes.t.output.y"}}},
            ],
            "edges": [
                {"id": "e1", "source": "start", "target": "t"},
                {"id": "e2", "source": "t", "target": "end"},
            ],
        }
        wf3 = _workflow(small)
        batch = [
            Run(workspace_id=wf3.workspace_id, workflow=wf3, graph=small, is_draft=True, input={"x": i}, last_seq=0)
            for i in range(throughput_runs)
        ]
        Run.objects.bulk_create(batch)
        ids = [r.pk for r in batch]
        from runs.dispatch import dispatch_run

        t0 = time.perf_counter()
        for pk in ids:
            dispatch_run(pk)  # what run_start does on commit
        enqueued = time.perf_counter()
        t1 = _wait_all(ids, 600)
        ok = Run.objects.filter(pk__in=ids, status="succeeded").count()
        # End to end through the service (validation, insert, dispatch on commit), one client thread.
        from runs.services import run_start

        t2 = time.perf_counter()
        started = [run_start(workflow=wf3, input={"x": i}).pk for i in range(min(throughput_runs, 500))]
        t3 = _wait_all(started, 600)
        return {
            "ms_per_node_engine_median": statistics.median(engine_ms),
            "ms_per_node_end_to_end_median": statistics.median(e2e_ms),
            "throughput_runs": throughput_runs,
            "throughput_succeeded": ok,
            "runs_per_s": throughput_runs / (t1 - t0),
            "enqueue_s": enqueued - t0,
            "service_runs": len(started),
            "service_runs_per_s": len(started) / (t3 - t2),
            "worker_concurrency": CONCURRENCY or "default",
        }
    finally:
        os.killpg(worker.pid, 15)
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, 9)


def _child(args) -> None:
    if args.child == "default":
        result = child_default(args.runs, args.batch_ms)
    else:
        result = child_queue(args.runs, args.throughput_runs, args.batch_ms)
    print("RESULT " + json.dumps(result), flush=True)


def _run_child(mode: str, args, batch_ms: int) -> dict | None:
    cmd = [sys.executable, __file__, "--child", mode, "--runs", str(args.runs)]
    cmd += ["--throughput-runs", str(args.throughput_runs), "--batch-ms", str(batch_ms)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    for text in proc.stdout.splitlines():
        if text.startswith("RESULT "):
            return json.loads(text[len("RESULT ") :])
    print(f"[{mode}] failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", choices=["default", "queue"])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--throughput-runs", type=int, default=2000)
    parser.add_argument("--batch-ms", type=int, default=0)
    parser.add_argument("--skip-queue", action="store_true")
    parser.add_argument("--batches", default="0,20", help="RUN_COMMIT_BATCH_MS values to measure")
    args = parser.parse_args()
    if args.child:
        _child(args)
        return 0
    print("Engine overhead per node: 100 transform nodes in a line (+ start, end), median of runs")
    for batch_ms in [int(b) for b in args.batches.split(",")]:
        label = "one transaction per step" if batch_ms == 0 else f"commit batching {batch_ms} ms"
        d = _run_child("default", args, batch_ms)
        if d:
            print(f"  default mode (SQLite, in-process), {label}: {d['ms_per_node_median']:.3f} ms/node")
        if args.skip_queue:
            continue
        q = _run_child("queue", args, batch_ms)
        if q:
            print(
                f"  queue mode (PostgreSQL, 1 Celery worker, {q['worker_concurrency']} slots), {label}: "
                f"{q['ms_per_node_engine_median']:.3f} ms/node in the engine, "
                f"{q['ms_per_node_end_to_end_median']:.3f} ms/node end to end"
            )
            print(
                f"  throughput, 3-node workflow, {label}: {q['runs_per_s']:.0f} runs/s "
                f"({q['throughput_succeeded']}/{q['throughput_runs']} succeeded; enqueue took {q['enqueue_s']:.2f} s); "
                f"through run_start from one client thread: {q['service_runs_per_s']:.0f} runs/s"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
