from django.contrib.auth.models import AnonymousUser

from builder.models import AuditEvent
from builder.services import audit_record


def test_audit_record_accepts_a_model_or_a_type_and_id(workspace, owner):
    # given a workflow-less action from another app (e.g. runs)
    event = audit_record(workspace=workspace, actor=owner, action="run.deleted", target=("run", "r-1"), data={"n": 1})
    assert (event.target_type, event.target_id, event.actor, event.data) == ("run", "r-1", owner, {"n": 1})
    # and a model instance, with an anonymous actor (a webhook)
    other = audit_record(workspace=workspace.pk, actor=AnonymousUser(), action="workspace.touched", target=workspace)
    assert (other.target_type, other.target_id, other.actor, other.data) == ("workspace", str(workspace.pk), None, {})


def test_the_workflow_audit_trail_lists_who_did_what(client_for, editor, viewer, workspace):
    client = client_for(editor, workspace)
    workflow = client.post("/api/v1/workflows", {"name": "Audited"}, format="json").json()
    client.patch(f"/api/v1/workflows/{workflow['id']}", {"name": "Renamed"}, format="json")
    client.post(f"/api/v1/workflows/{workflow['id']}/publish", {"note": "go"}, format="json")
    client.delete(f"/api/v1/workflows/{workflow['id']}")
    trail = client_for(viewer, workspace).get(f"/api/v1/workflows/{workflow['id']}/audit").json()
    assert [(e["action"], e["actor"]) for e in trail] == [
        ("workflow.archived", editor.email),
        ("workflow.published", editor.email),
        ("workflow.updated", editor.email),
        ("workflow.created", editor.email),
    ]
    assert trail[1]["data"] == {"version": 1, "note": "go"}
    assert AuditEvent.objects.filter(target_id=workflow["id"]).count() == 4
