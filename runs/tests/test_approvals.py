"""user_approval: the run waits, a decision resumes it on the matching port, a timeout rejects."""

import datetime as dt

import pytest
from django.utils import timezone

from runs import dispatch
from runs.models import RunEvent, Step
from runs.services import run_approve
from runs.tests.helpers import edge, graph, node, start
from trellis.errors import ApplicationError

pytestmark = pytest.mark.django_db


def approval_graph(**config):
    return graph(
        [
            start(),
            node("ask", "user_approval", message="Refund {{ workflow.input.amount }}?", **config),
            node("yes", "end", output="'refunded'"),
            node("no", "end", output="'refused: ' + nodes.ask.output.comment"),
        ],
        [edge("start", "ask"), edge("ask", "yes", "approved"), edge("ask", "no", "rejected")],
    )


def test_an_approval_pauses_the_run_and_approving_resumes_it(make_run, advance, editor):
    # given a waiting run
    run = advance(make_run(approval_graph(), {"amount": 5}))
    assert run.status == "waiting"
    assert run.lease_owner is None
    step = Step.objects.get(run=run, node_id="ask")
    assert step.status == "waiting"
    assert step.wait == {"message": "Refund 5?", "approvers": "editor"}
    assert RunEvent.objects.filter(run=run, type="run.waiting").count() == 1
    # when
    run = run_approve(run=run, step_id=step.pk, decision="approved", comment="fine", by=editor, role="editor")
    assert run.status == "queued"
    run = advance(run)
    # then
    assert run.status == "succeeded"
    assert run.output == "refunded"
    step.refresh_from_db()
    assert step.status == "succeeded" and step.port == "approved"
    assert step.output == {"decision": "approved", "comment": "fine", "by": editor.email}
    assert Step.objects.get(run=run, node_id="no").status == "skipped"


def test_rejecting_takes_the_rejected_port(make_run, advance, editor):
    run = advance(make_run(approval_graph(), {"amount": 5}))
    step = Step.objects.get(run=run, node_id="ask")
    run_approve(run=run, step_id=step.pk, decision="rejected", comment="too much", by=editor, role="editor")
    run = advance(run)
    assert run.status == "succeeded"
    assert run.output == "refused: too much"


def test_a_viewer_cannot_decide_and_nothing_changes(make_run, advance, viewer):
    run = advance(make_run(approval_graph(), {"amount": 5}))
    step = Step.objects.get(run=run, node_id="ask")
    with pytest.raises(ApplicationError) as exc:
        run_approve(run=run, step_id=step.pk, decision="approved", by=viewer, role="viewer")
    assert exc.value.status == 403
    step.refresh_from_db()
    run.refresh_from_db()
    assert step.status == "waiting" and run.status == "waiting"


def test_the_approvers_role_on_the_node_is_required(make_run, advance, editor):
    run = advance(make_run(approval_graph(approvers="admin"), {"amount": 5}))
    step = Step.objects.get(run=run, node_id="ask")
    with pytest.raises(ApplicationError) as exc:
        run_approve(run=run, step_id=step.pk, decision="approved", by=editor, role="editor")
    assert exc.value.status == 403


def test_deciding_twice_is_a_conflict(make_run, advance, editor):
    run = advance(make_run(approval_graph(), {"amount": 5}))
    step = Step.objects.get(run=run, node_id="ask")
    run_approve(run=run, step_id=step.pk, decision="approved", by=editor, role="editor")
    with pytest.raises(ApplicationError) as exc:
        run_approve(run=run, step_id=step.pk, decision="rejected", by=editor, role="editor")
    assert exc.value.status == 409


def test_an_approval_that_times_out_is_rejected(make_run, advance, monkeypatch):
    run = advance(make_run(approval_graph(timeout_s=60), {"amount": 5}))
    assert run.status == "waiting"
    assert run.wake_at is not None
    # when the timeout has passed, the reaper hands the run to a worker again
    later = run.wake_at + dt.timedelta(seconds=1)
    dispatched = []
    monkeypatch.setattr(dispatch, "dispatch_run", lambda run_id: dispatched.append(str(run_id)))
    assert dispatch.reap(now=later) == [str(run.pk)]
    assert dispatched == [str(run.pk)]
    step = Step.objects.get(run=run, node_id="ask")
    step.wait = {**step.wait, "timeout_at": (timezone.now() - dt.timedelta(seconds=1)).isoformat()}
    step.save()
    type(run).objects.filter(pk=run.pk).update(wake_at=timezone.now() - dt.timedelta(seconds=1))
    run = advance(run)
    # then
    assert run.status == "succeeded"
    assert run.output == "refused: Timed out waiting for approval."
    step.refresh_from_db()
    assert step.port == "rejected"


def test_a_waiting_run_is_not_picked_up_before_its_timeout(make_run, advance, monkeypatch):
    run = advance(make_run(approval_graph(timeout_s=3600), {"amount": 5}))
    monkeypatch.setattr(dispatch, "dispatch_run", lambda run_id: None)
    assert dispatch.reap() == []
    assert advance(run).status == "waiting"
    assert RunEvent.objects.filter(run=run, type="run.waiting").count() == 1


def test_parallel_branches_keep_running_while_an_approval_waits(make_run, advance, editor):
    g = approval_graph()
    g["nodes"].append(node("side", "transform", output="'side done'"))
    g["edges"].append(edge("start", "side"))
    run = advance(make_run(g, {"amount": 5}))
    assert run.status == "waiting"
    assert Step.objects.get(run=run, node_id="side").status == "succeeded"
