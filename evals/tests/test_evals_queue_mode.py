"""Queue mode with a real Celery worker: an eval's runs are executed by the worker, and the worker's
run-finishing listener grades them and starts the next items until the eval is done (no nudging from
this process). Its broker is the suite's Redis database (REDIS_URL) with a queue of its own."""

import os
import uuid

import pytest
import redis

from evals.models import Eval, EvalResult
from evals.services.datasets import items_add
from evals.services.evals import eval_start
from evals.tests.conftest import shout_graph
from runs.models import Run
from runs.testing.worker import start_worker, stop_workers
from runs.tests.helpers import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

QUEUE = f"trellis-evals-test-{uuid.uuid4().hex[:12]}"
BROKER = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def worker(tmp_path, settings):
    from trellis.celery import app

    log_path = tmp_path / "worker.log"
    env = {"TRELLIS_EVAL_CONCURRENCY": "2"}
    proc = start_worker(f"evals-{QUEUE}", queue=QUEUE, broker_url=BROKER, log_path=log_path, concurrency=2, env=env)
    # This process dispatches the eval's first runs: to the worker's queue.
    settings.TRELLIS_EXECUTOR = "celery"
    settings.EVAL_CONCURRENCY = 2
    before = app.conf.task_default_queue
    app.conf.task_default_queue = QUEUE
    try:
        yield log_path
    finally:
        app.conf.task_default_queue = before
        stop_workers(proc)
        redis.Redis.from_url(BROKER).delete(QUEUE)


def test_an_eval_is_driven_to_the_end_by_the_worker(worker, make_flow, owner):
    from evals.models import Dataset

    wf = make_flow(shout_graph())
    exact = {"type": "string_check", "name": "exact", "input": "{{ output.text }}", "reference": "{{ expected }}"}
    dataset = Dataset.objects.create(workspace=wf.workspace, workflow=wf, name="golden", graders=[exact])
    items_add(dataset=dataset, items=[{"input": {"message": f"m{i}"}, "expected": f"M{i}"} for i in range(5)])

    ev = eval_start(workflow=wf, dataset=dataset, version="draft", by=owner)

    done = wait_for(lambda: Eval.objects.filter(pk=ev.pk, status="succeeded").first(), 60, "the eval to finish")
    assert done.summary["items"] == 5 and done.summary["passed"] == 5, worker.read_text()[-3000:]
    runs = Run.objects.filter(pk__in=EvalResult.objects.filter(eval=ev).values("run_id"))
    assert sorted(r.trigger["type"] for r in runs) == ["eval"] * 5
    # This process started only the first two (the concurrency limit) and never advanced the eval again:
    # the other three were started, and all five graded, by the worker's run-finishing listener.
    assert "Task runs.run_advance" in worker.read_text()
