"""The `delay` node: the run is parked (no worker, no lease) until the time comes, then goes on."""

import datetime as dt

import pytest
from django.utils import timezone

from builder.services.validation import validate_graph
from runs import dispatch
from runs.models import Step
from runs.services import run_approve
from runs.tests.helpers import edge, graph, line, node, start
from trellis.errors import ApplicationError

pytestmark = pytest.mark.django_db


def delay_graph(**config) -> dict:
    return line(start(), node("wait", "delay", **config), node("end", "end", output={"echo": "input.message"}))


def test_a_delay_parks_the_run_without_a_worker_and_goes_on_when_its_time_comes(make_run, advance, monkeypatch):
    # given
    before = timezone.now()
    run = advance(make_run(delay_graph(seconds=90), {"message": "hi"}))
    # then: waiting, no lease held, to be woken in 90 s
    assert run.status == "waiting"
    assert run.lease_owner is None
    assert before + dt.timedelta(seconds=89) < run.wake_at < timezone.now() + dt.timedelta(seconds=91)
    step = Step.objects.get(run=run, node_id="wait")
    assert step.status == "waiting"
    assert step.wait["kind"] == "timer"
    # nobody can "decide" a timer
    with pytest.raises(ApplicationError) as refused:
        run_approve(run=run, step_id=step.pk, decision="approved")
    assert refused.value.status == 409
    # not before its time...
    monkeypatch.setattr(dispatch, "dispatch_run", lambda run_id: None)
    assert dispatch.reap() == []
    assert advance(run).status == "waiting"
    # ...and the reaper hands it to a worker once it has come
    assert dispatch.reap(now=run.wake_at + dt.timedelta(seconds=1)) == [str(run.pk)]
    step.wait = {**step.wait, "timeout_at": (timezone.now() - dt.timedelta(seconds=1)).isoformat()}
    step.save()
    type(run).objects.filter(pk=run.pk).update(wake_at=timezone.now() - dt.timedelta(seconds=1))
    run = advance(run)
    assert run.status == "succeeded"
    assert run.output == {"echo": "hi"}
    step.refresh_from_db()
    assert (step.status, step.port, step.output) == ("succeeded", "out", {"message": "hi"})


def test_a_delay_until_a_time_already_past_goes_on_at_once(make_run, advance):
    g = delay_graph(until="workflow.input.at")
    past = (timezone.now() - dt.timedelta(minutes=5)).isoformat()

    run = advance(make_run(g, {"message": "late", "at": past}))

    assert run.status == "succeeded"
    assert run.output == {"echo": "late"}


def test_a_delay_until_a_future_time_waits_until_then(make_run, advance):
    at = timezone.now() + dt.timedelta(hours=2)

    run = advance(make_run(delay_graph(until="workflow.input.at"), {"message": "x", "at": at.isoformat()}))

    assert run.status == "waiting"
    assert abs((run.wake_at - at).total_seconds()) < 1


def test_a_delay_until_something_that_is_not_a_time_fails_the_run(make_run, advance):
    run = advance(make_run(delay_graph(until="workflow.input.at"), {"message": "x", "at": "tomorrow"}))

    assert run.status == "failed"
    assert run.error["code"] == "expression_error"
    assert "not an ISO 8601 time" in run.error["message"]


def test_a_delay_needs_seconds_or_until_and_its_until_is_checked_like_any_expression():
    def errors(**config):
        issues = validate_graph(
            graph(
                [start(), node("wait", "delay", **config), node("end", "end", output={})],
                [
                    edge("start", "wait"),
                    edge("wait", "end"),
                ],
            )
        )
        return [(i["field"], i["message"]) for i in issues if i["severity"] == "error"]

    assert errors(seconds=5) == []
    assert errors(until="workflow.input.at") == []
    assert [field for field, _ in errors()] == ["config"]
    assert [field for field, _ in errors(seconds=5, until="workflow.input.at")] == ["config"]
    assert errors(until="nodes.nowhere.output") == [("config.until", "Node 'nowhere' does not exist.")]
