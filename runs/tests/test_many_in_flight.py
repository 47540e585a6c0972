"""Many runs in flight in one process: a run waiting on its model call holds no thread (it parks), so the
in-process executor's 8 threads do not cap the calls in flight; and a cancelled run ends its call."""

import time

import pytest

from runs.dispatch import inline_wait_idle
from runs.models import Run, Step
from runs.services import run_cancel, run_start, run_wait
from runs.tests.helpers import line, node, start

pytestmark = pytest.mark.django_db(transaction=True)


def agent_graph() -> dict:
    return line(
        start(),
        node("ask", "agent", model="gpt-4.1-mini", instructions="Answer {{ workflow.input.n }}"),
        node("end", "end", output={"reply": "nodes.ask.output"}),
    )


def test_five_hundred_runs_wait_on_the_model_at_once_and_all_finish_within_seconds(make_workflow, slow_model, settings):
    # given: 500 runs and 8 threads for the in-process executor
    assert settings.INLINE_EXECUTOR_THREADS == 8
    workflow = make_workflow(agent_graph())
    # when
    started = time.monotonic()
    runs = [run_start(workflow=workflow, input={"n": i}) for i in range(500)]
    assert inline_wait_idle(120)
    elapsed = time.monotonic() - started
    # then: every run finished with the model's answer, far more than 8 calls were in flight at once, and the
    # whole batch took seconds, not the 500 / 8 = 63 s of a thread per run (bench_llm_concurrency measures it)
    statuses = dict.fromkeys(Run.objects.filter(pk__in=[r.pk for r in runs]).values_list("status", flat=True))
    assert list(statuses) == ["succeeded"]
    assert Run.objects.get(pk=runs[0].pk).output == {"reply": "The answer is forty-two."}
    stats = slow_model.stats()
    assert stats["served"] == 500
    assert stats["peak"] > 100, stats
    assert elapsed < 30, elapsed


@pytest.mark.parametrize("slow_model", [30.0], indirect=True)
def test_cancelling_a_run_ends_its_model_call_in_flight(make_workflow, slow_model):
    # given: a run whose model call takes 30 s
    run = run_start(workflow=make_workflow(agent_graph()), input={"n": 1})
    deadline = time.monotonic() + 20
    while slow_model.stats()["in_flight"] < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert slow_model.stats()["in_flight"] == 1
    # when
    run_cancel(run=Run.objects.get(pk=run.pk))
    run = run_wait(run_id=run.pk, timeout_s=10)
    # then: the run is cancelled and the model saw its call closed, long before the answer was due
    assert run.status == "cancelled"
    deadline = time.monotonic() + 10
    while slow_model.stats()["cancelled"] < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert slow_model.stats() == {"in_flight": 0, "peak": 1, "served": 0, "cancelled": 1}
    assert Step.objects.get(run=run, node_id="ask").status == "cancelled"
