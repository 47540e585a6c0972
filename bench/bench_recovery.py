"""Recovery under a backlog (issue 12, section 2). Prints figures; asserts nothing.

Queue mode with real Celery workers: `--runs` runs of start -> nap (a `test_sleep` node, `--nap` s) -> end are
dispatched at once through the real dispatcher (runs.dispatch: batched messages), on `--workers` workers. One
worker is killed with SIGKILL `--kills` times while runs are in flight (each time a replacement starts), and:

* resume latency: for each run the killed worker had in flight or had received (the runs of its unfinished
  messages), the time from the kill to the run's next event (its work going on elsewhere); p50 and max,
  against the target lease + reaper interval + 5 s;
* broker dispatches per run: every run id pushed to the broker, counted with Redis MONITOR (so the figure
  means the same for any version of the code);
* lost runs (not succeeded at the end) and finished steps that ran twice.

Needs PostgreSQL and Redis (BENCH_DATABASE_URL, BENCH_REDIS_URL; both are emptied).
Usage: python bench/bench_recovery.py [--runs 1000] [--kills 3] [--lease 5] [--reaper 2] [--nap 0.5]
(`--lease 30 --reaper 15` are the production defaults: slower, same picture.)
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/trellis_bench_recovery")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")


def _reset_pg(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _env(args) -> dict:
    return {
        "DJANGO_SETTINGS_MODULE": "trellis.settings",
        "DATABASE_URL": PG,
        "REDIS_URL": REDIS,
        "TRELLIS_EXECUTOR": "celery",
        "TRELLIS_SCHEDULER": "off",
        "TRELLIS_RUN_LEASE_S": str(args.lease),
        "TRELLIS_RUN_REAPER_INTERVAL_S": str(args.reaper),
        "DB_CONN_MAX_AGE": "600",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
    }


def _start_worker(args, name: str, log_dir: Path) -> subprocess.Popen:
    cmd = [
        str(Path(sys.executable).with_name("celery")),
        "-A",
        "trellis",
        "worker",
        "-n",
        f"{name}@%h",
        "--loglevel=INFO",  # "Task …[id] received" lines: which messages the killed worker had
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        f"--concurrency={args.concurrency}",
        "-I",
        "runs.tests.helpers",  # the test_sleep node type
    ]
    log = open(log_dir / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        cmd, cwd=ROOT, env={**os.environ, **_env(args)}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def _runs_in_messages_of(log_path: Path, broker) -> set[str]:
    """Run ids of the messages a killed worker had received and not finished: its log names the task ids,
    the broker keeps those messages as unacked. Independent of how the code tracks runs (holds or not)."""
    text = log_path.read_text()
    received = set(re.findall(r"Task runs\.run_advance(?:_many)?\[([0-9a-f-]+)\] received", text))
    received -= set(re.findall(r"Task runs\.run_advance(?:_many)?\[([0-9a-f-]+)\] succeeded", text))
    ids: set[str] = set()
    for raw in broker.hvals("unacked"):
        message = json.loads(raw)[0]
        if message.get("headers", {}).get("id") in received:
            run_ids = json.loads(base64.b64decode(message["body"]))[0][0]
            ids.update([run_ids] if isinstance(run_ids, str) else run_ids)
    return ids


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class BrokerCounter:
    """Counts run ids pushed to the broker (LPUSH of a runs.run_advance[_many] message), via Redis MONITOR."""

    def __init__(self, url: str):
        import redis

        self.counts: Counter = Counter()
        self.messages = 0
        self._stop = False
        self._monitor = redis.Redis.from_url(url).monitor()
        self._monitor.__enter__()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        for event in self._monitor.listen():
            if self._stop:
                return
            command = event.get("command", "")
            if not command[:6].upper() == "LPUSH ":
                continue
            try:
                payload = json.loads(command.split(" ", 2)[2])  # LPUSH <queue list> <message>
                task = payload["headers"]["task"]
                if task not in ("runs.run_advance", "runs.run_advance_many"):
                    continue
                body = json.loads(base64.b64decode(payload["body"]))
            except (ValueError, KeyError, IndexError):
                continue
            ids = body[0][0]
            self.messages += 1
            for run_id in [ids] if isinstance(ids, str) else ids:
                self.counts[run_id] += 1

    def stop(self) -> None:
        self._stop = True


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--lease", type=int, default=5)
    parser.add_argument("--reaper", type=float, default=2.0)
    parser.add_argument("--nap", type=float, default=0.5)
    args = parser.parse_args()

    import redis

    _reset_pg(PG)
    redis.Redis.from_url(REDIS).flushdb()
    os.environ.update(_env(args))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from django.utils import timezone

    from accounts.services import user_create, workspace_create
    from builder.models import Workflow
    from runs.dispatch import dispatch_run
    from runs.models import Run, RunEvent, Step

    graph = {
        "format": "trellis.graph/1",
        "nodes": [
            {"id": "start", "type": "start", "name": "S", "config": {"input_schema": {"type": "object"}}},
            {"id": "nap", "type": "test_sleep", "name": "N", "config": {"seconds": args.nap}},
            {"id": "end", "type": "end", "name": "E", "config": {"output": {"x": "workflow.input.x"}}},
        ],
        "edges": [{"id": "e1", "source": "start", "target": "nap"}, {"id": "e2", "source": "nap", "target": "end"}],
    }
    user = user_create(email="bench@example.com", password="bench-password-123")
    ws = workspace_create(name="Bench", owner=user)
    wf = Workflow.objects.create(workspace=ws, name="bench", draft_graph=graph, created_by=user)
    log_dir = Path(tempfile.mkdtemp(prefix="trellis-bench-recovery-"))
    host = socket.gethostname()
    counter = BrokerCounter(REDIS)
    workers = [_start_worker(args, f"w{i}", log_dir) for i in range(args.workers)]
    victim_names = [f"w{i}" for i in range(args.workers)]
    broker = redis.Redis.from_url(REDIS)
    started_workers = list(workers)
    kills: list[tuple[float, set]] = []  # (kill time, runs the killed worker had in flight or held)
    try:
        time.sleep(4)  # the workers are up (a kill needs runs in flight, not a worker still importing)
        runs = Run.objects.bulk_create(
            Run(workspace_id=ws.id, workflow=wf, graph=graph, is_draft=True, input={"x": i}, last_seq=0)
            for i in range(args.runs)
        )
        ids = [r.pk for r in runs]
        t0 = time.monotonic()
        for pk in ids:
            dispatch_run(pk)  # what run_start does on commit
        active = ["queued", "running"]
        for k in range(args.kills):
            goal = args.runs * (k + 1) // (args.kills + 2)
            while Run.objects.filter(pk__in=ids, status="succeeded").count() < goal:
                time.sleep(0.05)
            victim, victim_log = workers[0], log_dir / f"{victim_names[0]}.log"
            owners = {f"{host}-{pid}" for pid in _children(victim.pid)}
            os.killpg(victim.pid, signal.SIGKILL)
            victim.wait(10)
            killed = timezone.now()
            left = Run.objects.filter(pk__in=ids, status__in=active, lease_owner__isnull=False)
            lost = {
                pk
                for pk, owner in left.values_list("pk", "lease_owner")
                if owner.removeprefix("hold:").split(":")[0] in owners
            }
            received = _runs_in_messages_of(victim_log, broker)
            lost |= set(Run.objects.filter(pk__in=received, status__in=active).values_list("pk", flat=True))
            kills.append((killed, lost))
            workers = [*workers[1:], _start_worker(args, f"w{args.workers + k}", log_dir)]
            victim_names = [*victim_names[1:], f"w{args.workers + k}"]
            started_workers.append(workers[-1])
        deadline = time.monotonic() + 1800
        while Run.objects.filter(pk__in=ids, status__in=active).exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        elapsed = time.monotonic() - t0
    finally:
        counter.stop()
        for proc in started_workers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)

    statuses = Counter(Run.objects.filter(pk__in=ids).values_list("status", flat=True))
    twice = sum(
        1
        for n in Counter(
            Step.objects.filter(run_id__in=ids, status="succeeded").values_list("run_id", "node_id", "iteration")
        ).values()
        if n > 1
    )
    print(
        f"{args.runs} runs (start -> {args.nap:g} s nap -> end), {args.workers} workers x {args.concurrency} "
        f"processes, lease {args.lease} s, reaper every {args.reaper:g} s: target resume "
        f"<= {args.lease + args.reaper + 5:g} s"
    )
    for k, (killed, lost) in enumerate(kills, 1):
        latencies = []
        for pk in lost:
            first = RunEvent.objects.filter(run_id=pk, ts__gt=killed).order_by("ts").values_list("ts", flat=True)[:1]
            latencies.append((first[0] - killed).total_seconds() if first else float("inf"))
        latencies.sort()
        if latencies:
            print(
                f"  kill {k}: {len(lost)} runs in flight or received; resumed after "
                f"{statistics.median(latencies):.1f} s (p50) / {latencies[-1]:.1f} s (max)"
            )
        else:
            print(f"  kill {k}: no run in flight")
    total = sum(counter.counts[str(pk)] for pk in ids)
    worst = max((counter.counts[str(pk)] for pk in ids), default=0)
    print(
        f"  broker dispatches: {total / len(ids):.2f} per run (max {worst}), in {counter.messages} messages; "
        f"runs: {dict(statuses)}; finished steps that ran twice: {twice}; all done in {elapsed:.1f} s"
    )
    print(f"  worker logs: {log_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
