"""Hostile users against the real API: other workspaces' objects, bad credentials, SSRF and secret leaks
through the engine, approvals by a viewer, cancelling a finished run."""

import base64
import json

import pytest
from rest_framework.test import APIClient

from accounts.services import api_token_create, secret_set
from builder.models import Workflow, WorkflowVersion
from runs.models import Run, RunEvent, Step
from runs.services import run_start, run_wait
from runs.testing.workflows import saved_workflow
from runs.tests.helpers import START_SCHEMA, edge, graph, line, node, start
from runs.triggers.models import Trigger
from runs.triggers.services import trigger_create

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "sup3r-s3cret-value"


def echo_graph() -> dict:
    return line(
        start(START_SCHEMA),
        node("shout", "transform", output={"text": "workflow.input.message.upperAscii()"}),
        node("end", "end", output={"text": "nodes.shout.output.text"}),
    )


def approval_graph() -> dict:
    return graph(
        [
            start(),
            node("ask", "user_approval", message="Go?"),
            node("yes", "end", output="'yes'"),
            node("no", "end", output="'no'"),
        ],
        [edge("start", "ask"), edge("ask", "yes", "approved"), edge("ask", "no", "rejected")],
    )


def make_flow(workspace, owner, g: dict, *, publish: bool = False, name: str = "Flow") -> Workflow:
    return saved_workflow(workspace=workspace, by=owner, graph=g, name=name, published=publish)


def run_via_api(client, wf, payload=None) -> dict:
    res = client.post(f"/api/v1/workflows/{wf.pk}/runs", {"input": payload or {}, "wait": 15}, format="json")
    assert res.status_code == 201, res.json()
    return res.json()


def stored_text(run_id) -> str:
    """Everything stored for a run: the run row, its steps and its events."""
    run = Run.objects.filter(pk=run_id).values().get()
    steps = list(Step.objects.filter(run_id=run_id).values())
    events = list(RunEvent.objects.filter(run_id=run_id).values())
    return json.dumps([run, steps, events], default=str)


@pytest.fixture
def victim(workspace, owner):
    """Workspace A's published workflow with a finished run and a webhook trigger."""
    wf = make_flow(workspace, owner, echo_graph(), publish=True)
    run = run_start(workflow=wf, input={"message": "x"})
    run_wait(run_id=run.pk, timeout_s=10)
    trigger, _ = trigger_create(workflow=wf, by=owner)
    return {"workflow": wf, "run": Run.objects.get(pk=run.pk), "trigger": trigger}


def snapshot(victim) -> tuple:
    wf = Workflow.objects.get(pk=victim["workflow"].pk)
    trigger = Trigger.objects.get(pk=victim["trigger"].pk)
    return (
        Workflow.objects.count(),
        WorkflowVersion.objects.count(),
        Run.objects.count(),
        Run.objects.get(pk=victim["run"].pk).status,
        wf.name,
        wf.draft_revision,
        wf.draft_graph,
        wf.published_version_id,
        trigger.enabled,
        trigger.name,
        bytes(trigger.secret_ciphertext),
        Trigger.objects.count(),
    )


ROUTES = [
    ("get", "/api/v1/workflows/{wf}/versions/1"),
    ("get", "/api/v1/workflows/{wf}/versions/1/diff/draft"),
    ("post", "/api/v1/workflows/{wf}/versions/1/restore"),
    ("post", "/api/v1/workflows/{wf}/versions/1/publish"),
    ("post", "/api/v1/workflows/{wf}/validate"),
    ("get", "/api/v1/workflows/{wf}/audit"),
    ("get", "/api/v1/workflows/{wf}/runs"),
    ("post", "/api/v1/workflows/{wf}/runs"),
    ("get", "/api/v1/runs/{run}"),
    ("get", "/api/v1/runs/{run}/events"),
    ("get", "/api/v1/runs/{run}/graph"),
    ("post", "/api/v1/runs/{run}/cancel"),
    ("post", "/api/v1/runs/{run}/approvals"),
    ("post", "/api/v1/runs/{run}/rerun"),
    ("get", "/api/v1/workflows/{wf}/triggers"),
    ("post", "/api/v1/workflows/{wf}/triggers"),
    ("get", "/api/v1/workflows/{wf}/triggers/{trigger}"),
    ("patch", "/api/v1/workflows/{wf}/triggers/{trigger}"),
    ("delete", "/api/v1/workflows/{wf}/triggers/{trigger}"),
    ("post", "/api/v1/workflows/{wf}/triggers/{trigger}/disable"),
    ("post", "/api/v1/workflows/{wf}/triggers/{trigger}/rotate-secret"),
    ("get", "/api/v1/workflows/{wf}/triggers/{trigger}/deliveries"),
]


@pytest.mark.parametrize("credential", ["session", "token"])
@pytest.mark.parametrize("method,path", ROUTES)
def test_another_workspaces_user_or_token_gets_404_on_every_object_route_and_nothing_changes(
    victim, make_user, make_workspace, client_for, credential, method, path
):
    # given a member of workspace B, acting by session or by B's API token
    stranger = make_user()
    other = make_workspace(owner=stranger)
    if credential == "session":
        client = client_for(stranger, other)
    else:
        _, raw = api_token_create(workspace=other, user=stranger, name="b")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    before = snapshot(victim)
    url = path.format(wf=victim["workflow"].pk, run=victim["run"].pk, trigger=victim["trigger"].pk)

    # when
    body = {"name": "stolen", "input": {"message": "x"}, "decision": "approved", "enabled": False}
    response = client.get(url) if method == "get" else getattr(client, method)(url, body, format="json")

    # then
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found.", "details": []}}
    assert snapshot(victim) == before


def test_listing_runs_filtered_by_another_workspaces_workflow_shows_nothing(
    victim, make_user, make_workspace, client_for
):
    stranger = make_user()
    client = client_for(stranger, make_workspace(owner=stranger))

    response = client.get(f"/api/v1/runs?workflow={victim['workflow'].pk}")

    assert response.status_code == 200
    assert response.json() == {"results": [], "next_cursor": None}


@pytest.mark.parametrize(
    "header,message",
    [
        ("Bearer", "Malformed Authorization header: use 'Bearer <token>'."),
        ("Bearer ", "Malformed Authorization header: use 'Bearer <token>'."),
        ("Bearer trl_a trl_b", "Malformed Authorization header: use 'Bearer <token>'."),
        ("Bearer trl_", "Invalid or revoked API token."),
        ("Bearer \u00e9t\u00e9", "Invalid or revoked API token."),
        ("Basic dXNlcjpwYXNz", "Authentication credentials were not provided."),
        ("Token trl_x", "Authentication credentials were not provided."),
    ],
)
def test_a_malformed_authorization_header_answers_401_in_the_error_shape(db, header, message):
    response = APIClient().get("/api/v1/workflows", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response.json() == {"error": {"code": "not_authenticated", "message": message, "details": []}}


@pytest.mark.parametrize(
    "url,message",
    [
        (
            "http://169.254.169.254/latest/meta-data/",
            "Refusing to connect to 169.254.169.254: link-local address.",
        ),
        ("http://[::1]/", "Refusing to connect to ::1: loopback address."),
        ("http://0x7f000001/", "Refusing to connect to '0x7f000001' (127.0.0.1): loopback address."),
    ],
)
def test_an_http_request_node_to_an_internal_address_fails_the_run_with_a_blocked_error(
    workspace, owner, editor, client_for, url, message
):
    wf = make_flow(
        workspace,
        owner,
        line(start(), node("h", "http_request", method="GET", url=url), node("end", "end", output="1")),
    )

    run = run_via_api(client_for(editor, workspace), wf)

    hint = " Add the host or its network to TRELLIS_HTTP_ALLOWLIST to allow an internal API."
    assert run["status"] == "failed"
    assert run["error"] == {"code": "blocked_url", "message": message + hint, "node_id": "h"}
    assert [(s["node_id"], s["status"]) for s in run["steps"]] == [("start", "succeeded"), ("h", "failed")]


def test_a_redirect_to_cloud_metadata_fails_the_run_with_a_blocked_error(
    workspace, owner, editor, client_for, echo_server, allow_loopback
):
    target = echo_server.base_url + "/redirect?to=http://169.254.169.254/latest/meta-data/"
    wf = make_flow(
        workspace,
        owner,
        line(start(), node("h", "http_request", method="GET", url=target), node("end", "end", output="1")),
    )

    run = run_via_api(client_for(editor, workspace), wf)

    assert run["status"] == "failed"
    assert run["error"]["code"] == "blocked_url"
    assert run["error"]["node_id"] == "h"
    assert "169.254.169.254: link-local address" in run["error"]["message"]
    assert len(echo_server.requests) == 1  # the redirect was not followed


def test_a_basic_auth_secret_echoed_back_by_the_server_is_redacted_from_the_step_output_and_events(
    workspace, owner, editor, client_for, echo_server, allow_loopback
):
    # given a server that echoes the request (like httpbin's /anything), headers included
    secret_set(workspace=workspace, name="TOKEN", value=SECRET)
    auth = {"type": "basic", "secret": "TOKEN", "username": "ada"}
    wf = make_flow(
        workspace,
        owner,
        line(
            start(),
            node("h", "http_request", method="GET", url=echo_server.base_url + "/echo", auth=auth),
            node("end", "end", output={"echo": "nodes.h.output.body"}),
        ),
    )

    # when
    run = run_via_api(client_for(editor, workspace), wf)

    # then the server got the credential, and nothing stored or answered contains it in any form
    encoded = base64.b64encode(f"ada:{SECRET}".encode()).decode()
    assert echo_server.requests[0]["headers"]["authorization"] == f"Basic {encoded}"
    assert run["status"] == "succeeded"
    assert run["output"]["echo"]["headers"]["authorization"] == "Basic [redacted]"
    for text in (json.dumps(run), stored_text(run["id"])):
        assert SECRET not in text
        assert encoded not in text


def test_a_failed_http_request_with_a_secret_never_shows_it_in_the_error(
    workspace, owner, editor, client_for, echo_server, allow_loopback
):
    secret_set(workspace=workspace, name="TOKEN", value=SECRET)
    url = echo_server.base_url + "/status/401"
    wf = make_flow(
        workspace,
        owner,
        line(
            start(),
            node("h", "http_request", method="GET", url=url, auth={"type": "bearer", "secret": "TOKEN"}),
            node("end", "end", output="1"),
        ),
    )

    run = run_via_api(client_for(editor, workspace), wf)

    assert run["status"] == "failed"
    assert run["error"] == {"code": "http_error", "message": f"GET {url} answered 401.", "node_id": "h"}
    assert SECRET not in json.dumps(run)
    assert SECRET not in stored_text(run["id"])


ECHOED_SECRET = 'sk/live+9f8e7d6c"5b4a3928=='  # a slash, a plus, a quote and padding: each is escaped somewhere


def reflect_flow(workspace, owner, echo_server, **query) -> Workflow:
    """A workflow whose HTTP node sends ECHOED_SECRET as X-Api-Key to a server that echoes it back."""
    secret_set(workspace=workspace, name="API_KEY", value=ECHOED_SECRET)
    url = echo_server.base_url + "/reflect?" + "&".join(f"{k}={v}" for k, v in {"header": "x-api-key", **query}.items())
    auth = {"type": "header", "header": "X-Api-Key", "secret": "API_KEY"}
    return make_flow(
        workspace,
        owner,
        line(
            start(),
            node("h", "http_request", method="GET", url=url, auth=auth, expect="text"),
            node("end", "end", output={"body": "nodes.h.output.body"}),
        ),
    )


def test_an_error_body_cut_to_error_body_chars_never_keeps_the_first_characters_of_a_secret(
    workspace, owner, editor, client_for, echo_server, allow_loopback
):
    # given a server whose 401 body holds the secret at character 487: a 500-character cut keeps 13 of them
    from runs.executors.http_request import ERROR_BODY_CHARS

    wf = reflect_flow(workspace, owner, echo_server, status=401, pad=ERROR_BODY_CHARS - 13)

    # when
    run = run_via_api(client_for(editor, workspace), wf)

    # then the secret was masked before the body was cut
    step = Step.objects.get(run_id=run["id"], node_id="h")
    assert run["status"] == "failed"
    assert echo_server.requests[0]["headers"]["x-api-key"] == ECHOED_SECRET
    assert step.error["details"]["body"] == "x" * 487 + "[redacted] (e"
    assert len(step.error["details"]["body"]) == ERROR_BODY_CHARS
    for text in (json.dumps(run), stored_text(run["id"])):
        assert ECHOED_SECRET[:13] not in text


@pytest.mark.parametrize("form", ["raw", "json", "url", "base64"])
def test_a_secret_echoed_back_json_escaped_url_encoded_or_in_base64_is_redacted(
    form, workspace, owner, editor, client_for, echo_server, allow_loopback
):
    # given a server that echoes the credential in one of the forms servers use (PHP's json_encode: `\/`)
    wf = reflect_flow(workspace, owner, echo_server, form=form)

    # when
    run = run_via_api(client_for(editor, workspace), wf)

    # then the output holds the mask where the secret was, and nothing stored holds any form of it
    from runs.redaction import forms

    assert run["status"] == "succeeded"
    assert run["output"] == {"body": "[redacted] (echoed)"}
    stored = json.dumps(run) + stored_text(run["id"])
    assert [f for f in forms(ECHOED_SECRET) if f in stored] == []
    assert "sk\\\\/live" not in stored  # the JSON-escaped echo, as stored (escaped once more)


def test_a_viewer_cannot_decide_an_approval_through_the_api_and_nothing_changes(workspace, owner, viewer, client_for):
    wf = make_flow(workspace, owner, approval_graph())
    run = run_start(workflow=wf, input={})
    run = run_wait(run_id=run.pk, timeout_s=10)
    assert run.status == "waiting"
    step = Step.objects.get(run=run, node_id="ask")
    events = RunEvent.objects.filter(run=run).count()

    response = client_for(viewer, workspace).post(
        f"/api/v1/runs/{run.pk}/approvals", {"step_id": str(step.pk), "decision": "approved"}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "permission_denied",
        "message": "Deciding this approval needs the editor role.",
        "details": [],
    }
    step.refresh_from_db()
    assert (step.status, step.port) == ("waiting", None)
    assert Run.objects.get(pk=run.pk).status == "waiting"
    assert RunEvent.objects.filter(run=run).count() == events
    client_for(owner, workspace).post(f"/api/v1/runs/{run.pk}/cancel")


def test_cancelling_a_finished_run_is_a_conflict_and_changes_nothing(victim, editor, workspace, client_for):
    run = victim["run"]
    assert run.status == "succeeded"
    events = RunEvent.objects.filter(run=run).count()

    response = client_for(editor, workspace).post(f"/api/v1/runs/{run.pk}/cancel")

    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "run_finished",
        "message": "This run already finished (succeeded); there is nothing to cancel.",
        "details": [],
    }
    after = Run.objects.get(pk=run.pk)
    assert (after.status, after.error, after.cancel_requested) == ("succeeded", None, False)
    assert RunEvent.objects.filter(run=run).count() == events


@pytest.mark.parametrize("from_step", [False, True])
def test_rerunning_a_run_of_an_archived_workflow_is_refused_and_no_run_is_made(
    workspace, owner, editor, client_for, from_step
):
    wf = make_flow(workspace, owner, echo_graph())
    run = run_start(workflow=wf, input={"message": "x"})
    run_wait(run_id=run.pk, timeout_s=10)
    assert client_for(owner, workspace).delete(f"/api/v1/workflows/{wf.pk}").status_code == 204
    body = {"from_step": str(Step.objects.get(run=run, node_id="shout").pk)} if from_step else {}

    response = client_for(editor, workspace).post(f"/api/v1/runs/{run.pk}/rerun", body, format="json")

    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "workflow_archived",
        "message": "This workflow is archived.",
        "details": [],
    }
    assert Run.objects.count() == 1
