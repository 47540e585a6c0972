"""A careless or hostile client sending bad data: every case is a 4xx in the error shape (or a failed run
with a readable message), and nothing is half-written."""

import json

import pytest
from django.test import Client

from builder.models import Workflow, WorkflowVersion
from builder.services.validation import validate_graph
from builder.tests.factories import edge as bedge
from builder.tests.factories import end as bend
from builder.tests.factories import graph as bgraph
from builder.tests.factories import node as bnode
from builder.tests.factories import start as bstart
from runs.models import Run
from runs.testing.workflows import saved_workflow
from runs.tests.helpers import edge, graph, line, node, shout_graph, start
from runs.triggers.models import Delivery
from runs.triggers.services import trigger_create

pytestmark = pytest.mark.django_db(transaction=True)

NUL_BODY = {"code": "bad_request", "message": "NUL characters (\\u0000) are not allowed in text.", "details": []}
NUL_URL = {"code": "bad_request", "message": "NUL characters are not allowed in the URL or headers.", "details": []}


@pytest.fixture
def flow(workspace, owner):
    return Workflow.objects.create(workspace=workspace, name="Flow", draft_graph=shout_graph(), created_by=owner)


@pytest.fixture
def api(client_for, editor, workspace):
    return client_for(editor, workspace)


def state(flow) -> tuple:
    wf = Workflow.objects.get(pk=flow.pk)
    return (Workflow.objects.count(), Run.objects.count(), wf.name, wf.description, wf.draft_revision, wf.draft_graph)


def deep_json(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


# --- NUL bytes: PostgreSQL refuses them in text and jsonb ----------------------------------------------


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("post", "/api/v1/workflows", {"name": "a\u0000b"}),
        ("patch", "/api/v1/workflows/{wf}", {"name": "a\u0000b"}),
        ("patch", "/api/v1/workflows/{wf}", {"description": "a\u0000b"}),
        ("put", "/api/v1/workflows/{wf}/draft", {"revision": 1, "graph": "NUL_IN_NODE_NAME"}),
        ("post", "/api/v1/workflows/{wf}/runs", {"input": {"message": "a\u0000b"}}),
        ("post", "/api/v1/workflows/{wf}/runs", {"input": {"message": "x", "k\u0000": 1}}),
        ("post", "/api/v1/workflows/{wf}/runs", {"input": {"message": "x"}, "idempotency_key": "k\u0000"}),
        ("post", "/api/v1/workflows/import", {"format": "trellis.graph/1", "name": "\u0000"}),
    ],
)
def test_a_nul_character_anywhere_in_a_json_body_is_a_400_and_nothing_is_stored(api, flow, method, path, body):
    if body.get("graph") == "NUL_IN_NODE_NAME":
        body["graph"] = shout_graph()
        body["graph"]["nodes"][1]["name"] = "x\u0000y"
    before = state(flow)

    response = getattr(api, method)(path.format(wf=flow.pk), body, format="json")

    assert response.status_code == 400
    assert response.json() == {"error": NUL_BODY}
    assert state(flow) == before


@pytest.mark.parametrize(
    "path,headers",
    [
        ("/api/v1/workflows?archived=%00", {}),
        ("/api/v1/workflows?q=a%00b", {}),
        ("/api/v1/runs?status=%00", {}),
        ("/api/v1/runs?cursor=a%00", {}),
        ("/api/v1/audit?action=%00", {}),
        ("/api/v1/workflows?workspace=a%00b", {}),
        ("/api/v1/workflows", {"HTTP_X_TRELLIS_WORKSPACE": "a\u0000b"}),
        ("/hooks/abc%00def", {}),
    ],
)
def test_a_nul_character_in_the_url_or_a_header_is_a_400_not_a_500(client_for, editor, path, headers):
    client = client_for(editor)

    response = client.get(path, **headers)

    assert response.status_code == 400
    assert response.json() == {"error": NUL_URL}


# --- sizes and shapes ------------------------------------------------------------------------------------


def test_a_deeply_nested_json_body_is_a_400_and_no_run_is_made(api, flow):
    body = '{"input": {"message": "x", "deep": ' + deep_json(3000) + "}}"

    response = api.post(f"/api/v1/workflows/{flow.pk}/runs", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "bad_request",
        "message": "JSON parse error - nested more than 256 levels deep.",
        "details": [],
    }
    assert Run.objects.count() == 0


def test_a_run_input_over_the_step_payload_limit_is_a_413_and_no_run_is_made(api, flow, settings):
    settings.STEP_MAX_PAYLOAD_BYTES = 2048

    response = api.post(f"/api/v1/workflows/{flow.pk}/runs", {"input": {"message": "x" * 3000}}, format="json")

    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "payload_too_large",
        "message": "The run input is 3015 bytes; the limit is 2048 (TRELLIS_STEP_MAX_PAYLOAD_BYTES).",
        "details": [],
    }
    assert Run.objects.count() == 0


def test_run_input_that_does_not_match_the_start_schema_is_a_422_with_the_path(api, flow):
    response = api.post(f"/api/v1/workflows/{flow.pk}/runs", {"input": {"message": 5}}, format="json")

    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "invalid_input",
        "message": "The input does not match the start node's schema.",
        "details": [{"path": "/message", "message": "5 is not of type 'string'"}],
    }
    assert Run.objects.count() == 0


@pytest.mark.parametrize("key", ["k" * 201, ["a"], {"a": 1}, 5])
def test_an_idempotency_key_that_is_too_long_or_not_a_string_is_a_400(api, flow, key):
    response = api.post(
        f"/api/v1/workflows/{flow.pk}/runs", {"input": {"message": "x"}, "idempotency_key": key}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "validation_error",
        "message": "The idempotency key must be a string of at most 200 characters.",
        "details": [{"field": "idempotency_key", "message": "A string of at most 200 characters."}],
    }
    assert Run.objects.count() == 0


@pytest.mark.parametrize("version", [1.5, True, [1]])
def test_a_version_that_is_not_a_whole_number_is_a_400(api, flow, version):
    response = api.post(
        f"/api/v1/workflows/{flow.pk}/runs", {"input": {"message": "x"}, "version": version}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert response.json()["error"]["details"] == [{"field": "version", "message": "Not a version."}]
    assert Run.objects.count() == 0


def test_wait_nan_is_a_400(api, flow):
    response = api.post(f"/api/v1/workflows/{flow.pk}/runs", {"input": {"message": "x"}, "wait": "nan"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == [{"field": "wait", "message": "Not a number."}]
    assert Run.objects.count() == 0


@pytest.mark.parametrize(
    "body,content_type,status,code",
    [
        ("not json", "application/json", 400, "bad_request"),
        ("[1, 2]", "application/json", 400, "bad_request"),
        ("message=hi", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        ("<input/>", "application/xml", 415, "unsupported_media_type"),
        ("hi", "text/plain", 415, "unsupported_media_type"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused_with_the_error_shape(api, flow, body, content_type, status, code):
    response = api.post(f"/api/v1/workflows/{flow.pk}/runs", body, content_type=content_type)

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert Run.objects.count() == 0


# --- validation and publishing ---------------------------------------------------------------------------


def while_graph(**while_config) -> dict:
    return bgraph(
        [
            bstart(),
            bnode("loop", "while", condition="loop.index < 3", **while_config),
            bnode("body", "transform", output={"i": "loop.index"}),
            bend(),
        ],
        [bedge("start", "loop"), bedge("loop", "body", "loop"), bedge("body", "loop"), bedge("loop", "done", "exit")],
    )


def test_a_while_loop_without_max_iterations_is_a_validation_error_on_that_field(settings):
    settings.RUN_MAX_LOOP_ITERATIONS = 100

    assert validate_graph(while_graph()) == [
        {
            "severity": "error",
            "node_id": "loop",
            "field": "config.max_iterations",
            "message": "Set max_iterations: how many times the loop may run at most (up to 100).",
        }
    ]
    assert validate_graph(while_graph(max_iterations=5)) == []


def test_publishing_a_while_loop_without_max_iterations_is_refused_with_422(workspace, owner, editor, client_for):
    wf = Workflow.objects.create(workspace=workspace, name="Loop", draft_graph=while_graph(), created_by=owner)

    response = client_for(editor, workspace).post(f"/api/v1/workflows/{wf.pk}/publish", {"note": ""}, format="json")

    assert response.status_code == 422
    assert [(i["node_id"], i["field"]) for i in response.json()["error"]["details"]] == [
        ("loop", "config.max_iterations")
    ]
    assert WorkflowVersion.objects.count() == 0
    assert Workflow.objects.get(pk=wf.pk).published_version_id is None


# --- expressions failing at run time ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression,message",
    [
        (
            "workflow.input.missing.key",
            "Expression 'workflow.input.missing.key': No such key: 'missing'. "
            "Use has(...) to test for a field that may be missing.",
        ),
        ("1 / 0", "Expression '1 / 0': Division by zero."),
        (
            "1 + 2.0",
            "Expression '1 + 2.0': No such overload: the operation is not defined for the given operand types. "
            "CEL does not mix types (int and double included): convert with int(), double() or string().",
        ),
    ],
)
def test_an_expression_failing_at_run_time_fails_the_step_and_run_naming_node_and_expression(
    workspace, owner, api, expression, message
):
    g = line(
        start(), node("calc", "transform", output={"v": expression}), node("end", "end", output="nodes.calc.output")
    )
    wf = Workflow.objects.create(workspace=workspace, name="Calc", draft_graph=g, created_by=owner)

    response = api.post(f"/api/v1/workflows/{wf.pk}/runs", {"input": {}, "wait": 15}, format="json")

    assert response.status_code == 201
    run = response.json()
    assert run["status"] == "failed"
    assert run["error"] == {"code": "expression_error", "message": message, "node_id": "calc"}
    calc = next(s for s in run["steps"] if s["node_id"] == "calc")
    assert calc["status"] == "failed"
    assert calc["error"] == {"code": "expression_error", "message": message, "details": {"field": "output.v"}}
    assert [s["node_id"] for s in run["steps"]] == ["start", "calc"]


def test_an_expression_failing_at_run_time_routes_to_the_error_port_when_on_error_is_route(workspace, owner, api):
    g = graph(
        [
            start(),
            node("calc", "transform", output={"v": "1 / 0"}),
            node("ok", "end", output="'ok'"),
            node("oops", "end", output="'routed'"),
        ],
        [edge("start", "calc"), edge("calc", "ok"), edge("calc", "oops", "error")],
    )
    g["nodes"][1]["config"]["on_error"] = "route"
    wf = Workflow.objects.create(workspace=workspace, name="Route", draft_graph=g, created_by=owner)

    response = api.post(f"/api/v1/workflows/{wf.pk}/runs", {"input": {}, "wait": 15}, format="json")

    run = response.json()
    assert response.status_code == 201, run
    assert run["status"] == "succeeded", run
    assert run["output"] == "routed"
    assert [(s["node_id"], s["status"]) for s in run["steps"]] == [
        ("start", "succeeded"),
        ("calc", "failed"),
        ("ok", "skipped"),
        ("oops", "succeeded"),
    ]


# --- webhooks ------------------------------------------------------------------------------------------


@pytest.fixture
def hook(workspace, owner):
    wf = saved_workflow(workspace=workspace, by=owner, graph=shout_graph(), name="Hook")
    trigger, _ = trigger_create(workflow=wf, by=owner, auth_mode="none", rate_limit_per_minute=0)
    return trigger


@pytest.mark.parametrize(
    "body,content_type",
    [
        (json.dumps({"message": "a\u0000b"}), "application/json"),
        (json.dumps({"message": "x", "k\u0000": 1}), "application/json"),
        ("a\x00b", "text/plain"),
        ("message=a%00b", "application/x-www-form-urlencoded"),
    ],
)
def test_a_webhook_body_with_a_nul_character_is_a_422_and_no_run_is_made(hook, body, content_type):
    response = Client().post(f"/hooks/{hook.key}", body, content_type=content_type)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"
    assert response.json()["error"]["message"] == "NUL characters (\\u0000) are not allowed in text."
    assert Run.objects.count() == 0
    assert Delivery.objects.filter(run_id__isnull=False).count() == 0


def test_a_deeply_nested_webhook_body_is_a_400_and_no_run_is_made(hook):
    response = Client().post(f"/hooks/{hook.key}", deep_json(5000), content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "bad_request",
        "message": "The body is not valid JSON: it is nested too deeply.",
        "details": [],
    }
    assert Run.objects.count() == 0


def test_a_webhook_to_a_workflow_whose_published_version_was_withdrawn_is_a_422(hook):
    Workflow.objects.filter(pk=hook.workflow_id).update(published_version=None)

    response = Client().post(f"/hooks/{hook.key}", json.dumps({"message": "hi"}), content_type="application/json")

    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "not_published",
        "message": "This workflow has no published version yet: publish it first.",
        "details": [],
    }
    assert Run.objects.count() == 0


def test_a_webhook_to_an_archived_or_deleted_workflow_is_a_404(hook, owner, client_for, workspace):
    client = Client()
    body = json.dumps({"message": "hi"})
    Workflow.objects.filter(pk=hook.workflow_id).update(archived_at="2026-01-01T00:00:00Z")
    archived = client.post(f"/hooks/{hook.key}", body, content_type="application/json")
    Workflow.objects.filter(pk=hook.workflow_id).update(archived_at=None)
    assert client_for(owner, workspace).delete(f"/api/v1/workflows/{hook.workflow_id}").status_code == 204

    deleted = client.post(f"/hooks/{hook.key}", body, content_type="application/json")

    for response in (archived, deleted):
        assert response.status_code == 404
        assert response.json()["error"] == {"code": "not_found", "message": "No such webhook.", "details": []}
    assert Run.objects.count() == 0


def test_a_deeply_nested_openai_compatible_request_is_a_400(db):
    response = Client().post("/v1/chat/completions", deep_json(5000), content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize("payload", [None, [1], "text", 5])
def test_a_run_input_that_is_not_an_object_is_a_422(api, flow, payload):
    response = api.post(f"/api/v1/workflows/{flow.pk}/runs", {"input": payload}, format="json")

    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "invalid_input",
        "message": "The input must be a JSON object.",
        "details": [{"path": "", "message": "Not an object."}],
    }
    assert Run.objects.count() == 0


def test_a_trigger_rate_limit_beyond_the_column_is_a_400_and_no_trigger_is_made(api, flow):
    from runs.triggers.models import Trigger

    response = api.post(
        f"/api/v1/workflows/{flow.pk}/triggers", {"rate_limit_per_minute": 288230376151711745}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert [d["field"] for d in response.json()["error"]["details"]] == ["rate_limit_per_minute"]
    assert Trigger.objects.count() == 0
