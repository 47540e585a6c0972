"""Workflows over HTTP: create, read, rename, archive, delete, draft with optimistic concurrency,
tenancy and roles."""

import pytest

from builder.models import AuditEvent, Workflow
from builder.tests.factories import linear


@pytest.fixture
def admin(workspace, member):
    return member(workspace, "admin")


@pytest.fixture
def flow(workspace, editor, client_for):
    response = client_for(editor, workspace).post("/api/v1/workflows", {"name": "Support"}, format="json")
    assert response.status_code == 201
    return Workflow.objects.get(pk=response.json()["id"])


def test_an_editor_creates_a_workflow_with_a_starter_draft(client_for, editor, workspace):
    response = client_for(editor, workspace).post(
        "/api/v1/workflows", {"name": " Support ", "description": "Help desk"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "id",
        "name",
        "description",
        "published_version",
        "latest_version",
        "draft_revision",
        "archived",
        "slug",
        "expose_as_tool",
        "created_at",
        "updated_at",
    }
    assert (body["name"], body["description"], body["published_version"], body["draft_revision"], body["archived"]) == (
        "Support",
        "Help desk",
        None,
        1,
        False,
    )
    workflow = Workflow.objects.get(pk=body["id"])
    assert [n["type"] for n in workflow.draft_graph["nodes"]] == ["start", "end"]
    assert workflow.workspace == workspace
    assert AuditEvent.objects.filter(action="workflow.created", target_id=body["id"], actor=editor).count() == 1


def test_create_with_a_malformed_graph_is_refused_and_nothing_is_stored(client_for, editor, workspace):
    graph = linear()
    graph["nodes"][0]["extra"] = True
    response = client_for(editor, workspace).post("/api/v1/workflows", {"name": "X", "graph": graph}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_graph"
    assert Workflow.objects.count() == 0


def test_create_from_a_template(client_for, editor, workspace):
    client = client_for(editor, workspace)
    templates = client.get("/api/v1/templates").json()
    assert len(templates) >= 6
    response = client.post("/api/v1/workflows", {"template": "order-router"}, format="json")
    assert response.status_code == 201
    workflow = Workflow.objects.get(pk=response.json()["id"])
    assert workflow.name == "Order router (no LLM)"
    assert {n["id"] for n in workflow.draft_graph["nodes"]} >= {"start", "normalize", "route"}
    bad = client.post("/api/v1/workflows", {"template": "nope"}, format="json")
    assert bad.status_code == 400
    assert Workflow.objects.count() == 1


def test_viewers_read_but_cannot_write(client_for, viewer, workspace, flow):
    client = client_for(viewer, workspace)
    assert client.get("/api/v1/workflows").status_code == 200
    assert client.get(f"/api/v1/workflows/{flow.pk}").status_code == 200
    assert client.get(f"/api/v1/workflows/{flow.pk}/draft").status_code == 200
    assert client.post(f"/api/v1/workflows/{flow.pk}/validate", {}, format="json").status_code == 200
    assert client.post("/api/v1/workflows", {"name": "No"}, format="json").status_code == 403
    assert client.patch(f"/api/v1/workflows/{flow.pk}", {"name": "No"}, format="json").status_code == 403
    put = client.put(f"/api/v1/workflows/{flow.pk}/draft", {"graph": linear(), "revision": 1}, format="json")
    assert put.status_code == 403
    assert client.post(f"/api/v1/workflows/{flow.pk}/publish", {}, format="json").status_code == 403
    assert client.delete(f"/api/v1/workflows/{flow.pk}").status_code == 403
    flow.refresh_from_db()
    assert (flow.name, flow.draft_revision, flow.archived, flow.versions.count()) == ("Support", 1, False, 0)
    assert Workflow.objects.count() == 1


def test_editors_archive_but_only_admins_delete(client_for, editor, admin, workspace, flow):
    editor_client = client_for(editor, workspace)
    assert editor_client.delete(f"/api/v1/workflows/{flow.pk}?permanent=true").status_code == 403
    assert Workflow.objects.filter(pk=flow.pk).exists()
    assert editor_client.delete(f"/api/v1/workflows/{flow.pk}").status_code == 204
    flow.refresh_from_db()
    assert flow.archived is True
    assert editor_client.get("/api/v1/workflows").json() == []
    assert [w["id"] for w in editor_client.get("/api/v1/workflows?archived=true").json()] == [str(flow.pk)]
    restored = editor_client.patch(f"/api/v1/workflows/{flow.pk}", {"archived": False}, format="json")
    assert restored.json()["archived"] is False
    assert client_for(admin, workspace).delete(f"/api/v1/workflows/{flow.pk}?permanent=true").status_code == 204
    assert not Workflow.objects.filter(pk=flow.pk).exists()
    assert AuditEvent.objects.filter(action="workflow.deleted", target_id=str(flow.pk)).count() == 1


def test_rename(client_for, editor, workspace, flow):
    response = client_for(editor, workspace).patch(f"/api/v1/workflows/{flow.pk}", {"name": "Helpdesk"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Helpdesk"
    empty = client_for(editor, workspace).patch(f"/api/v1/workflows/{flow.pk}", {"name": " "}, format="json")
    assert empty.status_code == 400
    flow.refresh_from_db()
    assert flow.name == "Helpdesk"


def test_another_workspace_sees_nothing_and_gets_404(client_for, make_workspace, make_user, flow):
    stranger = make_user()
    other = make_workspace(owner=stranger)
    client = client_for(stranger, other)
    assert client.get("/api/v1/workflows").json() == []
    for method, path in [
        ("get", f"/api/v1/workflows/{flow.pk}"),
        ("get", f"/api/v1/workflows/{flow.pk}/draft"),
        ("patch", f"/api/v1/workflows/{flow.pk}"),
        ("delete", f"/api/v1/workflows/{flow.pk}"),
        ("post", f"/api/v1/workflows/{flow.pk}/publish"),
        ("post", f"/api/v1/workflows/{flow.pk}/duplicate"),
        ("get", f"/api/v1/workflows/{flow.pk}/versions"),
        ("get", f"/api/v1/workflows/{flow.pk}/export"),
    ]:
        response = getattr(client, method)(path, {}, format="json") if method != "get" else client.get(path)
        assert response.status_code == 404, (method, path)
    put = client.put(f"/api/v1/workflows/{flow.pk}/draft", {"graph": linear(), "revision": 1}, format="json")
    assert put.status_code == 404
    flow.refresh_from_db()
    assert (flow.name, flow.draft_revision, flow.archived) == ("Support", 1, False)


def test_api_token_of_another_workspace_gets_404(make_workspace, owner, flow):
    from rest_framework.test import APIClient

    from accounts.services import api_token_create

    other = make_workspace(owner=owner)
    _, raw = api_token_create(workspace=other, user=owner, name="ci")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get(f"/api/v1/workflows/{flow.pk}").status_code == 404
    assert client.get("/api/v1/workflows").json() == []


def test_draft_round_trip_bumps_the_revision(client_for, editor, workspace, flow):
    client = client_for(editor, workspace)
    draft = client.get(f"/api/v1/workflows/{flow.pk}/draft").json()
    assert set(draft) == {"graph", "revision", "updated_at"}
    assert draft["revision"] == 1
    response = client.put(f"/api/v1/workflows/{flow.pk}/draft", {"graph": linear(), "revision": 1}, format="json")
    assert response.status_code == 200
    assert response.json()["revision"] == 2
    assert response.json()["graph"] == linear()
    assert client.get(f"/api/v1/workflows/{flow.pk}/draft").json()["graph"] == linear()


def test_a_stale_revision_answers_409_with_the_current_one_and_changes_nothing(client_for, editor, workspace, flow):
    client = client_for(editor, workspace)
    assert (
        client.put(f"/api/v1/workflows/{flow.pk}/draft", {"graph": linear(), "revision": 1}, format="json").status_code
        == 200
    )
    stale = linear()
    stale["nodes"][1]["name"] = "Lost edit"
    response = client.put(f"/api/v1/workflows/{flow.pk}/draft", {"graph": stale, "revision": 1}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert response.json()["error"]["details"] == {"current_revision": 2}
    flow.refresh_from_db()
    assert (flow.draft_revision, flow.draft_graph) == (2, linear())


def test_a_draft_may_be_unfinished_but_never_malformed(client_for, editor, workspace, flow):
    client = client_for(editor, workspace)
    unfinished = {"format": "trellis.graph/1", "nodes": [{"id": "a", "type": "agent", "config": {}}], "edges": []}
    assert (
        client.put(
            f"/api/v1/workflows/{flow.pk}/draft", {"graph": unfinished, "revision": 1}, format="json"
        ).status_code
        == 200
    )
    malformed = {**unfinished, "nodes": [{"id": "a", "type": "agent", "config": {}, "x": 1}]}
    response = client.put(f"/api/v1/workflows/{flow.pk}/draft", {"graph": malformed, "revision": 2}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [
        {"node_id": "a", "field": "nodes[0].x", "message": "Unknown field 'x'."}
    ]
    flow.refresh_from_db()
    assert (flow.draft_revision, flow.draft_graph) == (2, unfinished)


def test_validate_returns_issues_for_the_draft_or_a_posted_graph(client_for, viewer, editor, workspace, flow):
    assert client_for(viewer, workspace).post(f"/api/v1/workflows/{flow.pk}/validate", {}, format="json").json() == []
    g = linear()
    g["nodes"][1]["config"]["output"] = {"x": "nodes.done.output"}
    # sending a graph needs the editor role (test_validate_limits.py)
    response = client_for(editor, workspace).post(f"/api/v1/workflows/{flow.pk}/validate", {"graph": g}, format="json")
    assert response.json() == [
        {
            "severity": "error",
            "node_id": "work",
            "field": "config.output.x",
            "message": "Node 'done' is not upstream of 'work'.",
        }
    ]


def test_duplicate_copies_the_draft(client_for, editor, workspace, flow):
    client = client_for(editor, workspace)
    client.put(f"/api/v1/workflows/{flow.pk}/draft", {"graph": linear(), "revision": 1}, format="json")
    response = client.post(f"/api/v1/workflows/{flow.pk}/duplicate", {}, format="json")
    assert response.status_code == 201
    copy = Workflow.objects.get(pk=response.json()["id"])
    assert (copy.name, copy.draft_graph, copy.draft_revision, copy.workspace) == (
        "Copy of Support",
        linear(),
        1,
        workspace,
    )


def test_an_archived_filter_that_is_not_false_true_or_all_is_refused(client_for, editor, workspace, flow):
    response = client_for(editor, workspace).get("/api/v1/workflows?archived=AAA")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == [{"field": "archived", "message": "One of false, true, all."}]


def test_a_publish_note_that_is_not_text_is_refused_and_nothing_is_published(client_for, editor, workspace, flow):
    response = client_for(editor, workspace).post(f"/api/v1/workflows/{flow.pk}/publish", {"note": {}}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == [{"field": "note", "message": "Not a valid string."}]
    assert flow.versions.count() == 0


def test_a_duplicate_name_that_is_not_text_is_refused_and_nothing_is_copied(client_for, editor, workspace, flow):
    response = client_for(editor, workspace).post(f"/api/v1/workflows/{flow.pk}/duplicate", {"name": {}}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == [{"field": "name", "message": "Not a valid string."}]
    assert Workflow.objects.filter(workspace=workspace).count() == 1


def test_validate_refuses_a_body_that_is_not_an_object(client_for, editor, workspace, flow):
    response = client_for(editor, workspace).post(f"/api/v1/workflows/{flow.pk}/validate", [None, None], format="json")

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "bad_request",
        "message": "The body must be a JSON object.",
        "details": [],
    }


def test_saving_a_draft_whose_node_type_is_an_object_answers_400(client_for, editor, workspace, flow):
    bad = {"format": "trellis.graph/1", "nodes": [{"id": "a", "type": {}}], "edges": []}

    response = client_for(editor, workspace).put(
        f"/api/v1/workflows/{flow.pk}/draft", {"graph": bad, "revision": flow.draft_revision}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"] == [
        {"node_id": "a", "field": "nodes[0].type", "message": "Unknown node type {}."}
    ]
    flow.refresh_from_db()
    assert flow.draft_revision == 1
