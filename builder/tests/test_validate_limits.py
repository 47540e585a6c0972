"""POST …/validate is bounded: its body size (TRELLIS_VALIDATE_MAX_BYTES), its time
(TRELLIS_VALIDATE_TIMEOUT_S), and sending a graph to check needs the editor role."""

import json

import pytest

from builder.models import Workflow
from builder.tests.factories import edge, end, graph, linear, node, start


@pytest.fixture
def flow(workspace, owner):
    return Workflow.objects.create(workspace=workspace, name="Support", draft_graph=linear(), created_by=owner)


def heavy_graph(nodes: int, expression_chars: int) -> dict:
    """start → n transforms, each with one long expression → end."""
    expression = " && ".join(["workflow.input.items.exists(x, x > 1)"] * (expression_chars // 40))
    chain = [node(f"t{i}", "transform", output={"v": expression}) for i in range(nodes)]
    ids = ["start", *[f"t{i}" for i in range(nodes)], "done"]
    return graph([start(), *chain, end()], [edge(a, b) for a, b in zip(ids, ids[1:], strict=False)])


def test_a_viewers_four_megabyte_graph_is_refused_before_it_is_parsed_or_compiled(flow, viewer, client_for, workspace):
    # given the probe's case: a viewer sends a 4.3 MB graph to validate
    big = heavy_graph(nodes=1500, expression_chars=2800)
    body = json.dumps({"graph": big})
    assert 4_300_000 <= len(body) < 5_242_880  # under the graph limit, where it used to compile for 72 s
    draft_before = Workflow.objects.get(pk=flow.pk).draft_graph

    # when
    response = client_for(viewer, workspace).post(
        f"/api/v1/workflows/{flow.pk}/validate", body, content_type="application/json"
    )

    # then a clear 413 in the error shape, and nothing changed
    assert response.status_code == 413
    assert response.json() == {
        "error": {
            "code": "payload_too_large",
            "message": f"The request is {len(body)} bytes; validate takes at most 1048576 "
            "(save the draft and validate it instead).",
            "details": [{"limit": 1048576}],
        }
    }
    assert Workflow.objects.get(pk=flow.pk).draft_graph == draft_before


def test_an_editors_four_megabyte_graph_is_refused_too(flow, editor, client_for, workspace):
    body = json.dumps({"graph": heavy_graph(nodes=1500, expression_chars=2800)})

    response = client_for(editor, workspace).post(
        f"/api/v1/workflows/{flow.pk}/validate", body, content_type="application/json"
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_a_viewer_cannot_send_a_graph_to_validate_but_validates_the_saved_draft(flow, viewer, client_for, workspace):
    client = client_for(viewer, workspace)

    sent = client.post(f"/api/v1/workflows/{flow.pk}/validate", {"graph": linear()}, format="json")
    saved = client.post(f"/api/v1/workflows/{flow.pk}/validate", {}, format="json")

    assert sent.status_code == 403
    assert sent.json() == {
        "error": {
            "code": "permission_denied",
            "message": "This needs the editor role or higher in this workspace.",
            "details": [],
        }
    }
    assert (saved.status_code, saved.json()) == (200, [])


def test_an_outsider_gets_404_whatever_the_body(flow, make_workspace, client_for):
    stranger_ws = make_workspace()
    stranger = stranger_ws.memberships.get().user

    response = client_for(stranger, stranger_ws).post(
        f"/api/v1/workflows/{flow.pk}/validate", {"graph": linear()}, format="json"
    )

    assert response.status_code == 404


def test_a_validation_that_runs_past_its_time_stops_with_422(flow, editor, client_for, workspace, settings):
    # given a graph under the size cap that takes longer to check than the (here tiny) time limit
    settings.VALIDATE_TIMEOUT_S = 0.001
    g = heavy_graph(nodes=200, expression_chars=2000)
    assert len(json.dumps({"graph": g})) < 1048576

    response = client_for(editor, workspace).post(f"/api/v1/workflows/{flow.pk}/validate", {"graph": g}, format="json")

    assert response.status_code == 422
    assert response.json() == {
        "error": {
            "code": "validation_timeout",
            "message": "Validating this graph took longer than 0.001 s and was stopped: it is too large or its "
            "expressions too heavy to check in one request.",
            "details": [{"limit_s": 0.001}],
        }
    }


def test_the_same_graph_within_the_time_limit_lists_its_issues(flow, editor, client_for, workspace):
    g = heavy_graph(nodes=200, expression_chars=2000)

    response = client_for(editor, workspace).post(f"/api/v1/workflows/{flow.pk}/validate", {"graph": g}, format="json")

    assert response.status_code == 200
    assert response.json() == []
