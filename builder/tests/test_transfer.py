"""Export → import round trip, and hostile imports answered with 4xx and nothing stored."""

import json

import pytest

from builder.models import Workflow
from builder.services.templates import TEMPLATES
from builder.tests.factories import edge, graph, linear, node


@pytest.fixture
def client(client_for, editor, workspace):
    return client_for(editor, workspace)


def exported(client, graph_=None) -> dict:
    created = client.post(
        "/api/v1/workflows", {"name": "Triage", "description": "d", "graph": graph_ or linear()}, format="json"
    ).json()
    response = client.get(f"/api/v1/workflows/{created['id']}/export")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="triage.trellis.json"'
    return response.json()


def test_export_then_import_round_trips_into_a_new_workflow(client, workspace):
    template_graph = TEMPLATES["customer-service-triage"].graph()
    document = exported(client, template_graph)
    assert document["format"] == "trellis.export/1"
    assert document["workflow"] == {"name": "Triage", "description": "d"}
    response = client.post("/api/v1/workflows/import", document, format="json")
    assert response.status_code == 201
    imported = Workflow.objects.get(pk=response.json()["id"])
    assert str(imported.pk) != document["source"]["workflow_id"]
    assert response.json()["issues"] == []
    assert (imported.name, imported.description, imported.draft_graph, imported.workspace) == (
        "Triage",
        "d",
        template_graph,
        workspace,
    )
    assert client.post(f"/api/v1/workflows/{imported.pk}/validate", {}, format="json").json() == []


def _deep(levels: int) -> dict:
    root: dict = {}
    cursor = root
    for _ in range(levels):
        cursor["x"] = {}
        cursor = cursor["x"]
    return root


def _hostile_documents(valid: dict) -> list[tuple[str, dict | list, int]]:
    unknown_top = {**valid, "payload": 1}
    unknown_node = json.loads(json.dumps(valid))
    unknown_node["graph"]["nodes"][0]["exec"] = "rm -rf /"
    unknown_config = json.loads(json.dumps(valid))
    unknown_config["graph"]["nodes"][1]["config"]["python"] = "__import__('os')"
    wrong_format = {**valid, "format": "n8n/1"}
    wrong_graph_format = json.loads(json.dumps(valid))
    wrong_graph_format["graph"]["format"] = "trellis.graph/9"
    deep = json.loads(json.dumps(valid))
    deep["graph"]["nodes"][0]["config"]["state"] = _deep(50)
    many = {
        **valid,
        "graph": graph([node(f"n{i}", "note", text="") for i in range(10_000)], []),
    }
    big = {**valid, "graph": graph([node("start", "note", text="x" * (10 * 1024 * 1024))], [])}
    bad_edges = {**valid, "graph": {**valid["graph"], "edges": [edge("start", "work") | {"id": 5}]}}
    object_description = {**valid, "workflow": {"name": "x", "description": {}}}  # found by Schemathesis
    number_name = {**valid, "workflow": {"name": 0}}
    return [
        ("unknown top-level field", unknown_top, 400),
        ("unknown node field", unknown_node, 400),
        ("unknown config field", unknown_config, 400),
        ("wrong export format", wrong_format, 400),
        ("wrong graph format", wrong_graph_format, 400),
        ("50-deep nesting", deep, 400),
        ("10,000 nodes", many, 413),
        ("10 MB file", big, 413),
        ("bad edge id", bad_edges, 400),
        ("a description that is an object", object_description, 400),
        ("a name that is a number", number_name, 400),
        ("not an object", [1, 2, 3], 400),
    ]


def test_hostile_imports_are_refused_and_nothing_is_stored(client):
    valid = exported(client)
    before = Workflow.objects.count()
    for label, document, status in _hostile_documents(valid):
        response = client.post("/api/v1/workflows/import", document, format="json")
        assert response.status_code == status, label
        assert "error" in response.json(), label
        assert Workflow.objects.count() == before, label


def test_viewers_cannot_import(client, client_for, viewer, workspace):
    document = exported(client)
    before = Workflow.objects.count()
    assert client_for(viewer, workspace).post("/api/v1/workflows/import", document, format="json").status_code == 403
    assert Workflow.objects.count() == before
