"""Queue mode with a real Celery worker process: a worker killed with SIGKILL mid-run loses only the
step in flight; another worker's reaper picks the run up once the lease expires and finishes it
without executing the completed steps again."""

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.db import connection

from runs.models import Run, Step
from runs.tests.helpers import line, node, start, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(settings.BASE_DIR)
REDIS_DB = 13  # a broker database apart from the suite's; the queue name is unique per run
QUEUE = f"trellis-test-{uuid.uuid4().hex[:12]}"


def _broker_url() -> str:
    base = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0]
    return f"{base}/{REDIS_DB}"


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def start_worker(name: str, log_path: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "runs.tests.worker_settings",
        "TRELLIS_TEST_QUEUE": QUEUE,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": _broker_url(),
        "TRELLIS_EXECUTOR": "celery",
        "TRELLIS_RUN_LEASE_S": "2",
        "TRELLIS_RUN_REAPER_INTERVAL_S": "0.5",
        "DEBUG": "false",
    }
    cmd = [
        str(Path(sys.executable).with_name("celery")),
        "-A",
        "trellis",
        "worker",
        "-n",
        f"{name}@%h",
        "--concurrency=1",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
        "-Q",
        QUEUE,
        "-I",
        "runs.tests.helpers",  # the test-only node types
    ]
    log = open(log_path, "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def test_a_run_survives_sigkill_of_its_worker(make_run, tmp_path):
    g = line(
        start(),
        node("one", "test_sleep", seconds=1.5),
        node("two", "test_sleep", seconds=3),
        node("three", "test_sleep", seconds=0.5),
        node("end", "end", output={"done": "nodes.three.output.slept"}),
    )
    run = make_run(g, {})
    first = start_worker("first", tmp_path / "first.log")
    second = None
    try:
        client = Celery("trellis-test-client", broker=_broker_url())
        client.send_task("runs.run_advance", args=[str(run.pk)], queue=QUEUE)
        # when `two` is in flight on the first worker, kill it without warning
        wait_for(
            lambda: Step.objects.filter(run=run, node_id="two", status="running").exists(),
            60,
            "step two to start on the first worker",
        )
        one_before = Step.objects.get(run=run, node_id="one")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        second = start_worker("second", tmp_path / "second.log")
        # then the second worker finishes the run
        run = wait_for(
            lambda: Run.objects.filter(pk=run.pk, status__in=["succeeded", "failed"]).first(),
            60,
            "the run to finish on the second worker",
        )
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        redis.Redis.from_url(_broker_url()).delete(QUEUE)
    logs = (tmp_path / "second.log").read_text() if (tmp_path / "second.log").exists() else ""
    assert run.status == "succeeded", (run.error, logs[-3000:])
    assert run.output == {"done": 0.5}
    # `one` finished before the kill: it ran exactly once and its row is untouched
    ones = list(Step.objects.filter(run=run, node_id="one"))
    assert len(ones) == 1
    assert ones[0].started_at == one_before.started_at and ones[0].status == "succeeded"
    # `two` was in flight: its first execution is marked lost and it ran again
    twos = sorted(Step.objects.filter(run=run, node_id="two"), key=lambda s: s.started_at)
    assert [(s.status, (s.error or {}).get("code")) for s in twos] == [
        ("cancelled", "worker_lost"),
        ("succeeded", None),
    ]
    assert Step.objects.filter(run=run, node_id="three").count() == 1
    assert Step.objects.filter(run=run, node_id="start").count() == 1


def test_runs_sent_in_one_message_run_side_by_side(make_run, tmp_path):
    # given one slow run and eleven quick ones, sent in one batch message (as the dispatcher does)
    slow = make_run(line(start(), node("nap", "test_sleep", seconds=2), node("end", "end", output={})), {})
    double = node("t", "transform", output={"y": "workflow.input.x * 2"})
    quick_graph = line(start(), double, node("end", "end", output={"y": "nodes.t.output.y"}))
    quick = [make_run(quick_graph, {"x": i}) for i in range(11)]
    worker = start_worker("batch", tmp_path / "batch.log")
    try:
        client = Celery("trellis-test-client", broker=_broker_url())
        client.send_task("runs.run_advance_many", args=[[str(slow.pk), *(str(r.pk) for r in quick)]], queue=QUEUE)
        # then the quick runs finish while the slow one, ahead of them in the message, still sleeps
        wait_for(
            lambda: Run.objects.filter(pk__in=[r.pk for r in quick], status="succeeded").count() == 11,
            60,
            "the quick runs to finish",
        )
        assert Run.objects.get(pk=slow.pk).status == "running"
        slow = wait_for(lambda: Run.objects.filter(pk=slow.pk, status="succeeded").first(), 60, "the slow run")
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
        redis.Redis.from_url(_broker_url()).delete(QUEUE)
    outputs = sorted(Run.objects.get(pk=r.pk).output["y"] for r in quick)
    assert outputs == [i * 2 for i in range(11)]
