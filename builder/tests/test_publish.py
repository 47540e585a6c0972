"""Publishing, versions, diff, restore and rolling the published pointer."""

import pytest

from builder.models import AuditEvent, Workflow, WorkflowVersion
from builder.services.graph import graph_checksum
from builder.services.publish import graph_diff
from builder.tests.factories import edge, end, graph, linear, node, start


@pytest.fixture
def client(client_for, editor, workspace):
    return client_for(editor, workspace)


@pytest.fixture
def flow(client):
    workflow_id = client.post("/api/v1/workflows", {"name": "Flow", "graph": linear()}, format="json").json()["id"]
    return Workflow.objects.get(pk=workflow_id)


def put_draft(client, flow, g):
    flow.refresh_from_db()
    response = client.put(
        f"/api/v1/workflows/{flow.pk}/draft", {"graph": g, "revision": flow.draft_revision}, format="json"
    )
    assert response.status_code == 200, response.json()
    return response.json()


def test_publish_creates_version_one_and_points_at_it(client, flow, editor):
    response = client.post(f"/api/v1/workflows/{flow.pk}/publish", {"note": "First"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["number"], body["note"], body["published"], body["graph"]) == (1, "First", True, linear())
    assert body["checksum"] == graph_checksum(linear())
    assert body["created_by"] == editor.email
    flow.refresh_from_db()
    assert flow.published_version.number == 1
    assert client.get(f"/api/v1/workflows/{flow.pk}").json()["published_version"] == 1
    assert AuditEvent.objects.filter(action="workflow.published", target_id=str(flow.pk)).count() == 1


def test_publish_is_refused_while_the_graph_has_errors(client, flow):
    broken = linear()
    broken["nodes"][1]["config"]["output"] = {"x": "nodes.done.output"}
    put_draft(client, flow, broken)
    response = client.post(f"/api/v1/workflows/{flow.pk}/publish", {"note": "x"}, format="json")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert error["details"] == [
        {
            "severity": "error",
            "node_id": "work",
            "field": "config.output.x",
            "message": "Node 'done' is not upstream of 'work'.",
        }
    ]
    flow.refresh_from_db()
    assert (flow.published_version, flow.versions.count()) == (None, 0)


def test_warnings_do_not_block_publishing(client, flow):
    g = linear()
    g["nodes"].append(node("stray", "transform", output={}))
    put_draft(client, flow, g)
    assert client.post(f"/api/v1/workflows/{flow.pk}/publish", {}, format="json").status_code == 201


def test_versions_are_immutable_snapshots(client, flow):
    client.post(f"/api/v1/workflows/{flow.pk}/publish", {"note": "v1"}, format="json")
    changed = linear()
    changed["nodes"][1]["config"]["output"] = {"upper": "workflow.input.message + '!'"}
    put_draft(client, flow, changed)
    client.post(f"/api/v1/workflows/{flow.pk}/publish", {"note": "v2"}, format="json")
    v1 = client.get(f"/api/v1/workflows/{flow.pk}/versions/1").json()
    assert (v1["graph"], v1["note"], v1["published"]) == (linear(), "v1", False)
    listing = client.get(f"/api/v1/workflows/{flow.pk}/versions").json()
    assert [(v["number"], v["note"], v["published"]) for v in listing] == [(2, "v2", True), (1, "v1", False)]
    # No API changes a version: there is no PUT/PATCH/DELETE on one.
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)(f"/api/v1/workflows/{flow.pk}/versions/1", {}, format="json").status_code == 405
    stored = WorkflowVersion.objects.get(workflow=flow, number=1)
    assert (stored.graph, stored.checksum) == (linear(), graph_checksum(linear()))


def test_restore_copies_a_version_into_the_draft(client, flow):
    client.post(f"/api/v1/workflows/{flow.pk}/publish", {}, format="json")
    changed = linear()
    changed["nodes"][1]["name"] = "Renamed"
    put_draft(client, flow, changed)
    response = client.post(f"/api/v1/workflows/{flow.pk}/versions/1/restore", {}, format="json")
    assert response.status_code == 200
    assert (response.json()["graph"], response.json()["revision"]) == (linear(), 3)
    flow.refresh_from_db()
    assert (flow.draft_graph, flow.draft_revision, flow.published_version.number) == (linear(), 3, 1)
    assert client.post(f"/api/v1/workflows/{flow.pk}/versions/9/restore", {}, format="json").status_code == 404


def test_the_published_pointer_rolls_back_to_an_earlier_version(client, flow):
    client.post(f"/api/v1/workflows/{flow.pk}/publish", {}, format="json")
    put_draft(client, flow, linear())
    client.post(f"/api/v1/workflows/{flow.pk}/publish", {}, format="json")
    response = client.post(f"/api/v1/workflows/{flow.pk}/versions/1/publish", {}, format="json")
    assert response.status_code == 200
    assert response.json()["published_version"] == 1
    flow.refresh_from_db()
    assert (flow.published_version.number, flow.versions.count()) == (1, 2)


def test_viewers_cannot_publish_restore_or_roll_back(client, flow, client_for, viewer, workspace):
    client.post(f"/api/v1/workflows/{flow.pk}/publish", {}, format="json")
    reader = client_for(viewer, workspace)
    assert reader.post(f"/api/v1/workflows/{flow.pk}/publish", {}, format="json").status_code == 403
    assert reader.post(f"/api/v1/workflows/{flow.pk}/versions/1/restore", {}, format="json").status_code == 403
    assert reader.post(f"/api/v1/workflows/{flow.pk}/versions/1/publish", {}, format="json").status_code == 403
    assert reader.get(f"/api/v1/workflows/{flow.pk}/versions/1").status_code == 200
    flow.refresh_from_db()
    assert (flow.versions.count(), flow.draft_revision) == (1, 1)


KNOWN_OLD = graph(
    [
        start(),
        node("triage", "agent", model="gpt-4.1-mini", instructions="Classify", temperature=0),
        node("gone", "transform", output={}),
        end(),
    ],
    [edge("start", "triage"), edge("triage", "gone"), edge("gone", "done")],
)
KNOWN_NEW = graph(
    [
        start(),
        node("triage", "agent", model="gpt-4.1", instructions="Classify", max_turns=3),
        node("fresh", "transform", output={"a": "1"}),
        end(),
    ],
    [edge("start", "triage"), edge("triage", "fresh"), edge("fresh", "done")],
)


def test_diff_of_a_known_pair():
    new = KNOWN_NEW
    new["nodes"][1]["position"] = {"x": 5, "y": 5}  # positions are the canvas's business: ignored
    assert graph_diff(KNOWN_OLD, new) == {
        "nodes": {
            "added": ["fresh"],
            "removed": ["gone"],
            "changed": [
                {
                    "id": "triage",
                    "changes": [
                        {"field": "config.max_turns", "from": None, "to": 3},
                        {"field": "config.model", "from": "gpt-4.1-mini", "to": "gpt-4.1"},
                        {"field": "config.temperature", "from": 0, "to": None},
                    ],
                }
            ],
        },
        "edges": {
            "added": [
                {"source": "fresh", "source_port": "out", "target": "done"},
                {"source": "triage", "source_port": "out", "target": "fresh"},
            ],
            "removed": [
                {"source": "gone", "source_port": "out", "target": "done"},
                {"source": "triage", "source_port": "out", "target": "gone"},
            ],
        },
    }


def test_diff_api_between_versions_and_against_the_draft(client, flow):
    put_draft(client, flow, KNOWN_OLD)
    client.post(f"/api/v1/workflows/{flow.pk}/publish", {}, format="json")
    put_draft(client, flow, KNOWN_NEW)
    client.post(f"/api/v1/workflows/{flow.pk}/publish", {}, format="json")
    body = client.get(f"/api/v1/workflows/{flow.pk}/versions/1/diff/2").json()
    assert (body["from"], body["to"]) == (1, 2)
    assert body["nodes"]["added"] == ["fresh"]
    assert body["nodes"]["removed"] == ["gone"]
    same = client.get(f"/api/v1/workflows/{flow.pk}/versions/2/diff/draft").json()
    assert same["nodes"] == {"added": [], "removed": [], "changed": []}
    assert client.get(f"/api/v1/workflows/{flow.pk}/versions/1/diff/7").status_code == 404
