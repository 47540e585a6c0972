"""Queue mode with a real Celery worker process: a worker killed with SIGKILL mid-run loses only the
step in flight; another worker's reaper picks the run up once the lease expires and finishes it
without executing the completed steps again."""

import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.utils import timezone

from runs.dispatch import PRIORITY_FRESH
from runs.models import Run, RunEvent, Step
from runs.testing.worker import redis_url, stop_workers
from runs.testing.worker import start_worker as start_celery_worker
from runs.tests.helpers import line, node, start, wait_for
from runs.tests.test_many_in_flight import agent_graph

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

REDIS_DB = 13  # a broker database apart from the suite's; the queue name is unique per run
QUEUE = f"trellis-test-{uuid.uuid4().hex[:12]}"
BROKER = redis_url(REDIS_DB)


def _purge() -> None:
    # kombu's Redis transport keeps one list per priority step: QUEUE, then QUEUE\x06\x16<step>
    redis.Redis.from_url(BROKER).delete(QUEUE, *(f"{QUEUE}\x06\x16{step}" for step in (3, 6, 9)))


def start_worker(
    name: str, log_path: Path, concurrency: int = 1, pool: str = "threads", extra_env: dict | None = None
) -> subprocess.Popen:
    env = {
        # (not --pool: Celery takes a configured worker_pool over --pool=prefork)
        "TRELLIS_WORKER_POOL": pool,
        **(extra_env or {}),
        "TRELLIS_RUN_LEASE_S": "2",
        "TRELLIS_RUN_REAPER_INTERVAL_S": "0.5",
    }
    return start_celery_worker(
        name,
        queue=QUEUE,
        broker_url=BROKER,
        log_path=log_path,
        concurrency=concurrency,
        env=env,
        include="runs.tests.helpers",  # the test-only node types
    )


def _wait_all_finished(ids: list, timeout_s: float, what: str) -> None:
    wait_for(lambda: not Run.objects.filter(pk__in=ids, status__in=["queued", "running"]).exists(), timeout_s, what)


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
        client = Celery("trellis-test-client", broker=BROKER)
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
        stop_workers(first, second)
        _purge()
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
        client = Celery("trellis-test-client", broker=BROKER)
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
        stop_workers(worker)
        _purge()
    outputs = sorted(Run.objects.get(pk=r.pk).output["y"] for r in quick)
    assert outputs == [i * 2 for i in range(11)]


def test_a_message_slot_is_free_again_once_its_run_is_claimed_and_the_cap_holds_the_rest_back(make_run, tmp_path):
    # given a worker with ONE message slot and a cap of 3 runs in flight, and 5 runs of an 8 s nap, one per message
    # (with the threads pool the consumer fetches a message when its event loop wakes, at least every 2 s)
    graph = line(start(), node("nap", "test_sleep", seconds=8), node("end", "end", output={}))
    runs = [make_run(graph, {}) for _ in range(5)]
    ids = [r.pk for r in runs]
    worker = start_worker("slots", tmp_path / "slots.log", concurrency=1, extra_env={"TRELLIS_RUN_MAX_ACTIVE": "3"})
    try:
        client = Celery("trellis-test-client", broker=BROKER)
        for pk in ids:
            client.send_task("runs.run_advance", args=[str(pk)], queue=QUEUE)
        # then three nap at once: the one slot took the next message as soon as the last run was claimed
        napping = Step.objects.filter(run_id__in=ids, node_id="nap", status="running")
        wait_for(lambda: napping.count() >= 3, 20, "three runs napping at once")
        # and no more than the cap ever did, while the other two waited in the broker
        assert napping.count() == 3
        assert Run.objects.filter(pk__in=ids, status="queued").count() == 2
        _wait_all_finished(ids, 60, "every run to finish")
    finally:
        stop_workers(worker)
        _purge()
    assert set(Run.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"succeeded"}


def test_a_run_that_kills_every_worker_it_lands_on_fails_after_three_and_the_worker_goes_on(make_run, tmp_path):
    # given a node that SIGKILLs the worker process running it, every time
    run = make_run(line(start(), node("boom", "test_die", sigkill=True), node("end", "end", output="1")), {})
    quick = make_run(line(start(), node("end", "end", output="'still here'")), {})
    # (prefork: the worker's pool restarts the child process that was killed)
    worker = start_worker("crash", tmp_path / "crash.log", pool="prefork")
    try:
        client = Celery("trellis-test-client", broker=BROKER)
        client.send_task("runs.run_advance", args=[str(run.pk)], queue=QUEUE)
        # when the reaper hands it back each time its lease expires
        run = wait_for(
            lambda: Run.objects.filter(pk=run.pk, status__in=["succeeded", "failed"]).first(),
            90,
            "the crash-looping run to be failed",
        )
        # then it is failed on the third lost lease, and the worker (its pool restarted a process each time)
        # still takes new runs
        assert worker.poll() is None
        client.send_task("runs.run_advance", args=[str(quick.pk)], queue=QUEUE)
        quick = wait_for(lambda: Run.objects.filter(pk=quick.pk, status="succeeded").first(), 60, "a quick run")
    finally:
        stop_workers(worker)
        _purge()
    assert run.error["code"] == "crashed_repeatedly", run.error
    assert run.error["node_id"] == "boom"
    assert run.recoveries == 3
    booms = Step.objects.filter(run=run, node_id="boom").order_by("attempt")
    assert [(s.attempt, s.status, s.error["code"]) for s in booms] == [
        (1, "cancelled", "worker_lost"),
        (2, "cancelled", "worker_lost"),
        (3, "cancelled", "worker_lost"),
    ]
    assert quick.output == "still here"


def test_after_a_sigkill_interrupted_runs_jump_the_backlog_and_no_finished_step_runs_again(make_workflow, tmp_path):
    # given 300 runs of start -> nap (0.3 s) -> end, sent in messages of 20 like the dispatcher does
    graph = line(start(), node("nap", "test_sleep", seconds=0.3), node("end", "end", output={"x": "workflow.input.x"}))
    wf = make_workflow(graph)
    runs = Run.objects.bulk_create(
        Run(workspace_id=wf.workspace_id, workflow=wf, graph=graph, is_draft=True, input={"x": i}, last_seq=0)
        for i in range(300)
    )
    ids = [r.pk for r in runs]
    # A worker takes messages while it advances fewer runs than its cap: 40 here, two messages' worth.
    cap = {"TRELLIS_RUN_MAX_ACTIVE": "40"}
    first = start_worker("first", tmp_path / "first.log", concurrency=2, extra_env=cap)
    second = None
    try:
        client = Celery("trellis-test-client", broker=BROKER)
        for i in range(0, len(ids), 20):
            batch = [str(pk) for pk in ids[i : i + 20]]
            client.send_task("runs.run_advance_many", args=[batch], queue=QUEUE, priority=PRIORITY_FRESH)
        # when the first worker is killed while it has runs in flight and most are still queued
        # Every run of a received message starts at once: kill while many are in the middle of their nap.
        wait_for(
            lambda: Step.objects.filter(run_id__in=ids, node_id="nap", status="running").count() >= 20,
            90,
            "20 runs to be napping",
        )
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        killed_at = timezone.now()
        left = Run.objects.filter(pk__in=ids, status__in=["queued", "running"])
        interrupted = set(left.filter(lease_owner__isnull=False).values_list("pk", flat=True))
        # runs of its messages that it had not started yet: held by that worker
        held = set(left.filter(status="queued", lease_owner__startswith="hold:").values_list("pk", flat=True))
        backlog = set(left.filter(lease_owner__isnull=True).values_list("pk", flat=True))
        second = start_worker("second", tmp_path / "second.log", concurrency=2, extra_env=cap)
        _wait_all_finished(ids, 120, "every run to finish on the second worker")
    finally:
        stop_workers(first, second)
        _purge()
    # Every run of a received message starts at once (a run waiting on its node parks): the worker's messages
    # are interrupted runs, few or none are merely held.
    assert len(interrupted) >= 16 and len(backlog) >= 100, (len(interrupted), len(held), len(backlog))
    # then nothing is lost
    finished = {r.pk: r for r in Run.objects.filter(pk__in=ids)}
    assert {r.status for r in finished.values()} == {"succeeded"}
    assert sorted(r.output["x"] for r in finished.values()) == list(range(300))
    # and no finished step ran twice: only a nap in flight at the kill ran again, as attempt 2
    steps: dict = {}
    for s in Step.objects.filter(run_id__in=ids):
        steps.setdefault(s.run_id, []).append(s)
    for pk in ids:
        kinds = sorted((s.node_id, s.status, s.attempt) for s in steps[pk])
        lost = [k for k in kinds if k[1] == "cancelled"]
        assert lost in ([], [("nap", "cancelled", 1)]), kinds
        assert [k for k in kinds if k[1] == "succeeded"] == [
            ("end", "succeeded", 1),
            ("nap", "succeeded", 1 + len(lost)),
            ("start", "succeeded", 1),
        ], kinds
        assert not lost or pk in interrupted
    # and the interrupted runs went ahead of the backlog: they were all done before its last run started
    nap_started = {
        s.run_id: s.started_at for s in Step.objects.filter(run_id__in=ids, node_id="nap", status="succeeded")
    }
    assert max(finished[pk].finished_at for pk in interrupted) < max(nap_started[pk] for pk in backlog)
    # and each interrupted run was sent again once, the backlog never (one broker message, or two, per run)
    assert {finished[pk].redispatches for pk in interrupted} == {1}
    assert {finished[pk].redispatches for pk in backlog} == {0}
    resumed = sorted(
        (min(e.ts for e in RunEvent.objects.filter(run_id=pk, ts__gt=killed_at)) - killed_at).total_seconds()
        for pk in interrupted
    )
    print(
        f"\n{len(interrupted)} interrupted runs ({len(held)} held), {len(backlog)} queued behind: resumed "
        f"{resumed[len(resumed) // 2]:.1f} s (p50) / {resumed[-1]:.1f} s (max) after the kill, a new worker "
        f"starting meanwhile (target: lease 2 s + reaper 0.5 s + 5 s)"
    )


def _agent_runs(make_workflow, n: int) -> list:
    """n queued runs of start → agent → end (not dispatched); their ids."""
    wf = make_workflow(agent_graph())
    runs = Run.objects.bulk_create(
        Run(workspace_id=wf.workspace_id, workflow=wf, graph=wf.draft_graph, is_draft=True, input={"n": i}, last_seq=0)
        for i in range(n)
    )
    return [r.pk for r in runs]


def _model_env(slow_model) -> dict:
    """What a worker process needs to reach the model stub."""
    return {"OPENAI_API_KEY": "test-key", "OPENAI_BASE_URL": slow_model.base_url}


@pytest.mark.parametrize("slow_model", [5.0], indirect=True)
def test_a_sigkill_during_500_model_calls_in_flight_loses_no_run_and_repeats_no_finished_step(
    make_workflow, slow_model, tmp_path
):
    # given 500 runs of start → agent → end against a model that answers in 5 s, sent in messages of 32 (as the
    # dispatcher does) to one worker process with 16 message slots
    ids = _agent_runs(make_workflow, 500)
    model_env = _model_env(slow_model)
    first = start_worker("first", tmp_path / "first.log", concurrency=16, extra_env=model_env)
    second = None
    try:
        client = Celery("trellis-test-client", broker=BROKER)
        for i in range(0, len(ids), 32):
            batch = [str(pk) for pk in ids[i : i + 32]]
            client.send_task("runs.run_advance_many", args=[batch], queue=QUEUE, priority=PRIORITY_FRESH)
        # when the worker is killed while most of the runs wait on their model call
        in_flight_at_kill = wait_for(
            lambda: (n := slow_model.stats()["in_flight"]) >= 300 and n, 120, "300 model calls in flight"
        )
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        second = start_worker("second", tmp_path / "second.log", concurrency=16, extra_env=model_env)
        _wait_all_finished(ids, 180, "every run to finish on the second worker")
    finally:
        stop_workers(first, second)
        _purge()
    # then no run is lost
    finished = list(Run.objects.filter(pk__in=ids))
    assert {r.status for r in finished} == {"succeeded"}, [r.error for r in finished if r.status != "succeeded"][:3]
    assert {r.output["reply"] for r in finished} == {"The answer is forty-two."}
    # and no finished step ran again: only a model call in flight at the kill ran again, as attempt 2
    steps: dict = {}
    for s in Step.objects.filter(run_id__in=ids):
        steps.setdefault(s.run_id, []).append((s.node_id, s.status, s.attempt))
    repeated = 0
    for pk in ids:
        kinds = sorted(steps[pk])
        lost = [k for k in kinds if k[1] == "cancelled"]
        assert lost in ([], [("ask", "cancelled", 1)]), kinds
        assert [k for k in kinds if k[1] == "succeeded"] == [
            ("ask", "succeeded", 1 + len(lost)),
            ("end", "succeeded", 1),
            ("start", "succeeded", 1),
        ], kinds
        repeated += len(lost)
    assert in_flight_at_kill >= 300 and repeated >= 300, (in_flight_at_kill, repeated)


def test_500_runs_waiting_on_the_model_finish_within_seconds_on_one_worker_process(make_workflow, slow_model, tmp_path):
    # given 500 runs of start → agent → end against a model that answers in 1 s, sent in messages of 32 to ONE
    # worker process (16 message slots)
    ids = _agent_runs(make_workflow, 500)
    model_env = _model_env(slow_model)
    worker = start_worker("many", tmp_path / "many.log", concurrency=16, extra_env=model_env)
    try:
        client = Celery("trellis-test-client", broker=BROKER)
        client.send_task("runs.run_advance", args=[str(ids[0])], queue=QUEUE)  # the worker is up and warm
        wait_for(lambda: Run.objects.filter(pk=ids[0], status="succeeded").exists(), 60, "a first run")
        # when
        started = time.monotonic()
        for i in range(1, len(ids), 32):
            batch = [str(pk) for pk in ids[i : i + 32]]
            client.send_task("runs.run_advance_many", args=[batch], queue=QUEUE, priority=PRIORITY_FRESH)
        _wait_all_finished(ids, 120, "every run to finish")
        elapsed = time.monotonic() - started
    finally:
        stop_workers(worker)
        _purge()
    # then: all succeeded, far more than 16 calls were in flight at once, and the 499 took seconds, not the
    # 499 / 16 = 31 s of a thread per message slot
    assert set(Run.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"succeeded"}
    stats = slow_model.stats()
    assert stats["served"] == 500 and stats["peak"] > 100, stats
    assert elapsed < 20, elapsed
