"""The read-only, workspace-wide audit log endpoint (builder/audit_urls.py)."""

import pytest
from django.urls import include, path

from builder.models import AuditEvent, Workflow
from builder.services.audit import audit_record

urlpatterns = [path("api/v1/", include("builder.audit_urls"))]
pytestmark = [pytest.mark.django_db, pytest.mark.urls("builder.tests.test_audit_api")]


def _workflow(workspace, owner, name="Triage"):
    return Workflow.objects.create(
        workspace=workspace,
        name=name,
        draft_graph={"format": "trellis.graph/1", "nodes": [], "edges": []},
        created_by=owner,
    )


def test_audit_lists_the_workspace_events_newest_first_with_workflow_names(workspace, owner, viewer, client_for):
    wf = _workflow(workspace, owner)
    audit_record(workspace=workspace, actor=owner, action="workflow.created", target=wf, data={"name": "Triage"})
    audit_record(workspace=workspace, actor=owner, action="workflow.published", target=wf, data={"number": 1})

    response = client_for(viewer, workspace).get("/api/v1/audit")

    assert response.status_code == 200
    body = response.json()
    assert [(e["action"], e["actor"], e["target_name"], e["data"]) for e in body["results"]] == [
        ("workflow.published", owner.email, "Triage", {"number": 1}),
        ("workflow.created", owner.email, "Triage", {"name": "Triage"}),
    ]
    assert body["next_before"] is None


def test_audit_pages_with_before_and_filters_by_action(workspace, owner, viewer, client_for):
    wf = _workflow(workspace, owner)
    for i in range(5):
        audit_record(workspace=workspace, actor=owner, action="workflow.draft_saved", target=wf, data={"i": i})
    audit_record(workspace=workspace, actor=owner, action="workflow.published", target=wf)
    client = client_for(viewer, workspace)

    first = client.get("/api/v1/audit?limit=2&action=workflow.draft").json()
    second = client.get(f"/api/v1/audit?limit=2&action=workflow.draft&before={first['next_before']}").json()

    assert [e["data"]["i"] for e in first["results"]] == [4, 3]
    assert [e["data"]["i"] for e in second["results"]] == [2, 1]


def test_audit_never_shows_another_workspaces_events(workspace, owner, make_user, make_workspace, client_for):
    audit_record(workspace=workspace, actor=owner, action="workflow.created", target=_workflow(workspace, owner))
    stranger = make_user()

    body = client_for(stranger, make_workspace(owner=stranger)).get("/api/v1/audit").json()

    assert body["results"] == []
    assert AuditEvent.objects.count() == 1
