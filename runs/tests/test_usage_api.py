"""The read-only usage endpoint and the run-graph endpoint (runs/usage_urls.py)."""

import datetime as dt

import pytest
from django.urls import include, path
from django.utils import timezone

from runs.models import Run, Step

urlpatterns = [path("api/v1/", include("runs.usage_urls"))]
pytestmark = [pytest.mark.django_db, pytest.mark.urls("runs.tests.test_usage_api")]

GRAPH = {"format": "trellis.graph/1", "nodes": [], "edges": []}


def _run(workflow, *, status="succeeded", days_ago=0, usage=None, steps=()):
    run = Run.objects.create(
        workspace_id=workflow.workspace_id,
        workflow=workflow,
        graph=GRAPH,
        status=status,
        usage=usage or {"input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0},
    )
    Run.objects.filter(pk=run.pk).update(created_at=timezone.now() - dt.timedelta(days=days_ago))
    for i, step_usage in enumerate(steps):
        Step.objects.create(run=run, node_id=f"n{i}", node_type="agent", status="succeeded", usage=step_usage)
    return run


def test_usage_sums_tokens_and_cost_per_day_workflow_and_model(make_workflow, viewer, workspace, client_for):
    # given two workflows with runs today and yesterday, one run older than the period
    triage = make_workflow(GRAPH, name="Triage")
    other = make_workflow(GRAPH, name="Other")
    u = lambda i, o, c: {"input_tokens": i, "output_tokens": o, "cost_usd": c}  # noqa: E731
    _run(triage, usage=u(10, 5, 0.5), steps=[{**u(10, 5, 0.5), "model": "gpt-4.1-mini"}])
    _run(triage, status="failed", days_ago=1, usage=u(20, 0, 1.0), steps=[{**u(20, 0, 1.0), "model": "gpt-4.1"}])
    _run(other, usage=u(1, 1, 0.25), steps=[{**u(1, 1, 0.25), "model": "gpt-4.1-mini"}])
    _run(other, days_ago=40, usage=u(999, 999, 99.0))

    # when a viewer asks for the last 30 days
    response = client_for(viewer, workspace).get("/api/v1/usage?days=30")

    # then the figures are grouped by day, workflow and model, and statuses are counted per day
    assert response.status_code == 200
    body = response.json()
    today = timezone.now().date().isoformat()
    yesterday = (timezone.now() - dt.timedelta(days=1)).date().isoformat()
    assert body["source"] == "server"
    assert body["per_day"] == [
        {"key": yesterday, "runs": 1, "input_tokens": 20, "output_tokens": 0, "cost_usd": 1.0, "price_unknown": 0},
        {"key": today, "runs": 2, "input_tokens": 11, "output_tokens": 6, "cost_usd": 0.75, "price_unknown": 0},
    ]
    assert body["per_workflow"] == [
        {
            "key": str(triage.pk),
            "label": "Triage",
            "runs": 2,
            "input_tokens": 30,
            "output_tokens": 5,
            "cost_usd": 1.5,
            "price_unknown": 0,
        },
        {
            "key": str(other.pk),
            "label": "Other",
            "runs": 1,
            "input_tokens": 1,
            "output_tokens": 1,
            "cost_usd": 0.25,
            "price_unknown": 0,
        },
    ]
    assert body["per_model"] == [
        {"key": "gpt-4.1", "runs": 1, "input_tokens": 20, "output_tokens": 0, "cost_usd": 1.0, "price_unknown": 0},
        {
            "key": "gpt-4.1-mini",
            "runs": 2,
            "input_tokens": 11,
            "output_tokens": 6,
            "cost_usd": 0.75,
            "price_unknown": 0,
        },
    ]
    assert body["per_trigger"] == [
        {"key": "unknown", "runs": 3, "input_tokens": 31, "output_tokens": 6, "cost_usd": 1.75, "price_unknown": 0}
    ]
    assert body["status_by_day"] == [
        {"day": yesterday, "counts": {"failed": 1}},
        {"day": today, "counts": {"succeeded": 2}},
    ]


def test_runs_and_models_without_a_known_price_are_counted_as_price_unknown(
    make_workflow, viewer, workspace, client_for
):
    # given a run with a priced call and one whose model has no price, started by the API
    flow = make_workflow(GRAPH, name="Mixed")
    priced = {"input_tokens": 10, "output_tokens": 5, "cost_usd": 0.5, "model": "gpt-4.1-mini"}
    unpriced = {"input_tokens": 7, "output_tokens": 3, "cost_usd": None, "model": "acme-1", "price_unknown": True}
    run = _run(
        flow,
        usage={"input_tokens": 17, "output_tokens": 8, "cost_usd": 0.5, "price_unknown": True},
        steps=[priced, unpriced],
    )
    Run.objects.filter(pk=run.pk).update(trigger={"type": "api"})

    body = client_for(viewer, workspace).get("/api/v1/usage?days=7").json()

    # then the cost shown is what is known, and the rows say that some of it is not
    assert body["per_workflow"] == [
        {
            "key": str(flow.pk),
            "label": "Mixed",
            "runs": 1,
            "input_tokens": 17,
            "output_tokens": 8,
            "cost_usd": 0.5,
            "price_unknown": 1,
        }
    ]
    assert body["per_model"] == [
        {"key": "gpt-4.1-mini", "runs": 1, "input_tokens": 10, "output_tokens": 5, "cost_usd": 0.5, "price_unknown": 0},
        {"key": "acme-1", "runs": 1, "input_tokens": 7, "output_tokens": 3, "cost_usd": 0.0, "price_unknown": 1},
    ]
    assert body["per_trigger"] == [
        {"key": "api", "runs": 1, "input_tokens": 17, "output_tokens": 8, "cost_usd": 0.5, "price_unknown": 1}
    ]


def test_usage_never_counts_another_workspaces_runs(make_workflow, make_workspace, client_for, make_user):
    # given runs in a workspace the caller does not belong to
    _run(make_workflow(GRAPH), usage={"input_tokens": 5, "output_tokens": 5, "cost_usd": 1.0})
    stranger = make_user()
    theirs = make_workspace(owner=stranger)

    # when they ask for their own usage
    body = client_for(stranger, theirs).get("/api/v1/usage").json()

    # then they see none of it
    assert body["per_day"] == []
    assert body["per_workflow"] == []


def test_usage_refuses_a_period_out_of_range(viewer, workspace, client_for):
    response = client_for(viewer, workspace).get("/api/v1/usage?days=0")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_run_graph_returns_the_graph_the_run_executed_and_404_across_workspaces(
    make_workflow, viewer, workspace, client_for, make_user, make_workspace
):
    run = _run(make_workflow(GRAPH))
    Run.objects.filter(pk=run.pk).update(graph={**GRAPH, "nodes": [{"id": "start"}]})

    mine = client_for(viewer, workspace).get(f"/api/v1/runs/{run.pk}/graph")
    stranger = make_user()
    theirs = client_for(stranger, make_workspace(owner=stranger)).get(f"/api/v1/runs/{run.pk}/graph")

    assert mine.status_code == 200
    assert mine.json() == {"graph": {**GRAPH, "nodes": [{"id": "start"}]}, "version": None, "is_draft": False}
    assert theirs.status_code == 404


def test_each_trigger_is_its_own_row_with_its_name(make_workflow, viewer, workspace, client_for):
    from runs.triggers.models import Trigger

    flow = make_workflow(GRAPH, name="Hooked")
    hook = Trigger.objects.create(
        workspace=workspace, workflow=flow, key="k-usage", secret_ciphertext=b"-", name="Stripe"
    )
    for cost, trigger in ((0.5, {"type": "webhook", "trigger_id": str(hook.pk)}), (0.25, {"type": "api"})):
        run = _run(flow, usage={"input_tokens": 1, "output_tokens": 1, "cost_usd": cost})
        Run.objects.filter(pk=run.pk).update(trigger=trigger)

    body = client_for(viewer, workspace).get("/api/v1/usage?days=7").json()

    assert body["per_trigger"] == [
        {
            "key": str(hook.pk),
            "label": "webhook: Stripe",
            "runs": 1,
            "input_tokens": 1,
            "output_tokens": 1,
            "cost_usd": 0.5,
            "price_unknown": 0,
        },
        {"key": "api", "runs": 1, "input_tokens": 1, "output_tokens": 1, "cost_usd": 0.25, "price_unknown": 0},
    ]
