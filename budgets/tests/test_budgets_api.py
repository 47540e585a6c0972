"""The budgets, model-prices and usage-export API: shapes, validation, tenancy (404 across workspaces) and
admin-only changes."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.services import api_token_create as token_create
from budgets.models import Budget, ModelPrice, RunCostLimit
from budgets.tests.conftest import agent_graph
from builder.models import AuditEvent
from runs.models import Run

pytestmark = pytest.mark.django_db

BODY = {"window": "month", "limit_usd": 25, "alert_at": 0.5}


@pytest.fixture
def admin(workspace, member):
    return member(workspace, "admin")


def test_an_admin_sets_the_workspace_budget_and_members_read_it(admin, viewer, workspace, client_for):
    response = client_for(admin, workspace).put("/api/v1/budgets", BODY, format="json")

    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("scope", "target_id", "window", "limit_usd", "alert_at", "alert_webhook_url")} == {
        "scope": "workspace",
        "target_id": "",
        "window": "month",
        "limit_usd": 25.0,
        "alert_at": 0.5,
        "alert_webhook_url": "",
    }
    assert body["current"]["spent_usd"] == 0.0
    assert body["current"]["left_usd"] == 25.0
    listed = client_for(viewer, workspace).get("/api/v1/budgets").json()
    assert listed["time_zone"] == "UTC"
    assert listed["workspace"]["id"] == body["id"]
    assert [b["id"] for b in listed["budgets"]] == [body["id"]]
    assert AuditEvent.objects.filter(action="budget.set", target_id=body["id"]).count() == 1


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_only_admins_change_budgets(role, member, workspace, client_for, make_workflow, set_budget):
    user = member(workspace, role)
    flow = make_workflow(agent_graph())
    set_budget(workspace, limit="10")
    client = client_for(user, workspace)

    answers = [
        client.put("/api/v1/budgets", BODY, format="json").status_code,
        client.delete("/api/v1/budgets").status_code,
        client.put(f"/api/v1/workflows/{flow.pk}/budget", BODY, format="json").status_code,
        client.put(
            "/api/v1/model-prices", {"prices": [{"model": "m", "input": 1, "output": 2}]}, format="json"
        ).status_code,
    ]

    assert answers == [403, 403, 403, 403]
    assert list(Budget.objects.values_list("scope", "limit_usd")) == [("workspace", Decimal("10"))]
    assert ModelPrice.objects.count() == 0


def test_budgets_of_another_workspace_answer_404(make_workspace, make_user, client_for, workspace, make_workflow):
    # given a workflow and an API token in Acme, and an admin of another workspace
    flow = make_workflow(agent_graph())
    token, _ = token_create(user=workspace.memberships.get(role="owner").user, workspace=workspace, name="ci")
    outsider = make_user()
    other = make_workspace(owner=outsider)
    client = client_for(outsider, other)

    answers = [
        client.get(f"/api/v1/workflows/{flow.pk}/budget").status_code,
        client.put(f"/api/v1/workflows/{flow.pk}/budget", BODY, format="json").status_code,
        client.delete(f"/api/v1/workflows/{flow.pk}/budget").status_code,
        client.get(f"/api/v1/tokens/{token.pk}/budget").status_code,
        client.put(f"/api/v1/tokens/{token.pk}/budget", BODY, format="json").status_code,
    ]

    assert answers == [404, 404, 404, 404, 404]
    assert Budget.objects.count() == 0
    # and their own list does not show Acme's budgets
    client_for(workspace.memberships.get(role="owner").user, workspace).put(
        f"/api/v1/workflows/{flow.pk}/budget", BODY, format="json"
    )
    assert client.get("/api/v1/budgets").json()["budgets"] == []


def test_workflow_and_token_budgets_are_set_read_and_removed(owner, workspace, client_for, make_workflow):
    flow = make_workflow(agent_graph(), name="Triage")
    token, _ = token_create(user=owner, workspace=workspace, name="ci")
    client = client_for(owner, workspace)

    assert client.get(f"/api/v1/workflows/{flow.pk}/budget").json() is None
    put = client.put(f"/api/v1/workflows/{flow.pk}/budget", {"window": "day", "limit_usd": 2}, format="json")
    tok = client.put(f"/api/v1/tokens/{token.pk}/budget", {"window": "month", "limit_usd": 3}, format="json")

    assert (put.status_code, put.json()["target_name"], put.json()["alert_at"]) == (200, "Triage", 0.8)
    assert (tok.status_code, tok.json()["scope"], tok.json()["target_name"]) == (200, "api_token", "ci")
    assert client.get(f"/api/v1/workflows/{flow.pk}/budget").json()["limit_usd"] == 2.0
    assert client.delete(f"/api/v1/workflows/{flow.pk}/budget").status_code == 204
    assert client.get(f"/api/v1/workflows/{flow.pk}/budget").json() is None
    assert list(Budget.objects.values_list("scope", flat=True)) == ["api_token"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"window": "week", "limit_usd": 1}, "window"),
        ({"window": "month", "limit_usd": -1}, "limit_usd"),
        ({"window": "month", "limit_usd": "lots"}, "limit_usd"),
        ({"window": "month", "limit_usd": True}, "limit_usd"),
        ({"window": "month", "limit_usd": 1, "alert_at": 1.5}, "alert_at"),
        ({"window": "month", "limit_usd": 1, "alert_webhook_url": "ftp://example.com"}, "alert_webhook_url"),
        ({"window": "month", "limit_usd": 1, "alert_webhook_url": "http://127.0.0.1/x"}, "alert_webhook_url"),
        ({"window": "month"}, "limit_usd"),
    ],
)
def test_a_bad_budget_is_refused_with_the_field_named(body, field, owner, workspace, client_for):
    response = client_for(owner, workspace).put("/api/v1/budgets", body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert response.json()["error"]["details"][0]["field"] == field
    assert Budget.objects.count() == 0


def test_the_workspace_time_zone_is_set_by_an_admin_and_checked(owner, editor, workspace, client_for):
    client = client_for(owner, workspace)

    bad = client.patch(f"/api/v1/workspaces/{workspace.pk}", {"time_zone": "Mars/Olympus"}, format="json")
    good = client.patch(f"/api/v1/workspaces/{workspace.pk}", {"time_zone": "Europe/Berlin"}, format="json")
    denied = client_for(editor, workspace).patch(
        f"/api/v1/workspaces/{workspace.pk}", {"time_zone": "UTC"}, format="json"
    )

    assert bad.status_code == 400
    assert (good.status_code, good.json()["time_zone"], good.json()["name"]) == (200, "Europe/Berlin", "Acme")
    assert denied.status_code == 403
    workspace.refresh_from_db()
    assert workspace.time_zone == "Europe/Berlin"


def test_model_prices_list_defaults_and_keep_the_workspace_history(owner, viewer, workspace, client_for):
    client = client_for(owner, workspace)
    yesterday = timezone.now() - dt.timedelta(days=1)

    client.put(
        "/api/v1/model-prices",
        {"prices": [{"model": "acme-1", "input": 1, "output": 2, "effective_from": yesterday.isoformat()}]},
        format="json",
    )
    response = client.put(
        "/api/v1/model-prices",
        {"prices": [{"model": "acme-1", "input": 3, "output": 4, "cached_input": 0.5, "reasoning": 8}]},
        format="json",
    )

    assert response.status_code == 200
    body = client_for(viewer, workspace).get("/api/v1/model-prices").json()
    current = {p["model"]: p for p in body["prices"]}
    assert {k: current["acme-1"][k] for k in ("input", "cached_input", "output", "reasoning", "source")} == {
        "input": 3.0,
        "cached_input": 0.5,
        "output": 4.0,
        "reasoning": 8.0,
        "source": "workspace",
    }
    assert {k: current["gpt-4.1-mini"][k] for k in ("input", "cached_input", "output", "source")} == {
        "input": 0.4,
        "cached_input": 0.1,
        "output": 1.6,
        "source": "default",
    }
    assert [(p["model"], p["input"]) for p in body["history"]] == [("acme-1", 3.0), ("acme-1", 1.0)]


def test_a_bad_price_is_refused_and_nothing_is_stored(owner, workspace, client_for):
    response = client_for(owner, workspace).put(
        "/api/v1/model-prices",
        {"prices": [{"model": "ok", "input": 1, "output": 1}, {"model": "bad", "input": -1, "output": 1}]},
        format="json",
    )

    assert response.status_code == 400
    assert ModelPrice.objects.count() == 0


def test_max_cost_usd_on_run_start_is_stored_with_the_run(editor, workspace, client_for, make_workflow):
    flow = make_workflow(agent_graph())
    client = client_for(editor, workspace)

    started = client.post(f"/api/v1/workflows/{flow.pk}/runs", {"input": {}, "max_cost_usd": 0.25}, format="json")
    refused = client.post(f"/api/v1/workflows/{flow.pk}/runs", {"input": {}, "max_cost_usd": -1}, format="json")

    assert started.status_code == 201
    assert RunCostLimit.objects.get(run_id=started.json()["id"]).max_cost_usd == Decimal("0.25")
    assert refused.status_code == 400
    assert refused.json()["error"]["details"][0]["field"] == "max_cost_usd"
    assert Run.objects.count() == 1


def test_runs_started_with_an_api_token_name_it_for_its_budget(owner, workspace, make_workflow):
    from rest_framework.test import APIClient

    flow = make_workflow(agent_graph())
    token, raw = token_create(user=owner, workspace=workspace, name="ci")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = client.post(f"/api/v1/workflows/{flow.pk}/runs", {"input": {}}, format="json")

    assert response.status_code == 201
    assert Run.objects.get(pk=response.json()["id"]).trigger == {"type": "api", "token_id": str(token.pk)}


def test_the_usage_export_is_a_csv_of_runs_with_price_unknown_shown(viewer, workspace, client_for, make_workflow):
    flow = make_workflow(agent_graph(), name="=cmd")
    priced = Run.objects.create(
        workspace=workspace,
        workflow=flow,
        status="succeeded",
        trigger={"type": "api"},
        usage={"input_tokens": 10, "output_tokens": 5, "cost_usd": 0.0125},
    )
    unknown = Run.objects.create(
        workspace=workspace,
        workflow=flow,
        status="succeeded",
        trigger={"type": "webhook"},
        usage={"input_tokens": 3, "output_tokens": 1, "cost_usd": 0.0, "price_unknown": True},
    )

    response = client_for(viewer, workspace).get("/api/v1/usage/export.csv?days=7")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "run_id",
        "created_at",
        "workflow_id",
        "workflow",
        "trigger",
        "status",
        "input_tokens",
        "output_tokens",
        "cost_usd",
    ]
    by_id = {r[0]: r for r in rows[1:]}
    assert by_id[str(priced.pk)][3:] == ["'=cmd", "api", "succeeded", "10", "5", "0.012500"]
    assert by_id[str(unknown.pk)][3:] == ["'=cmd", "webhook", "succeeded", "3", "1", "price unknown"]


def test_only_admins_see_the_alert_webhook_url_with_its_query(admin, viewer, workspace, client_for):
    body = {**BODY, "alert_webhook_url": "https://hooks.example.com/budget?token=s3cret"}
    saved = client_for(admin, workspace).put("/api/v1/budgets", body, format="json").json()

    seen_by_viewer = client_for(viewer, workspace).get("/api/v1/budgets").json()["workspace"]
    seen_by_admin = client_for(admin, workspace).get("/api/v1/budgets").json()["workspace"]

    assert saved["alert_webhook_url"] == "https://hooks.example.com/budget?token=s3cret"
    assert seen_by_admin["alert_webhook_url"] == "https://hooks.example.com/budget?token=s3cret"
    assert seen_by_viewer["alert_webhook_url"] == "https://hooks.example.com/budget"
