"""The OpenAPI document is true: Schemathesis drives every /api/v1 operation of a live server with data
generated from /api/schema/ and checks each answer (no server error; status code, content type, headers and
body as documented; valid requests accepted, invalid ones refused). A bounded, deterministic run: the
settings are in tests/schemathesis.toml."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from accounts.services import api_token_create, membership_add, user_create, workspace_create
from chat.models import ChatMessage, ChatThread, ChatVisitor
from evals.services.evals import eval_wait
from runs.testing.live_server import live_server_thread

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "tests" / "schemathesis.toml"
RUN_TIMEOUT_S = 420  # a normal run takes about a minute on two cores


def _seed() -> tuple[str, dict[str, str]]:
    """A workspace with one of everything the API reads (a published workflow, a finished run, a trigger, a
    secret, a provider, a second member, a dataset, an eval, a chat conversation), the token the run uses, and
    spares for it to revoke or delete."""
    owner = user_create(email="schemathesis@example.com", password="unused-Password-1", name="Schema Thesis")
    workspace = workspace_create(name="Conformance", owner=owner)
    spare_workspace = workspace_create(name="Spare", owner=owner)
    member = membership_add(
        workspace=workspace, user=user_create(email="member@example.com", password="unused-Password-1"), role="editor"
    )
    _, token = api_token_create(workspace=workspace, user=owner, name="schemathesis")
    spare_token, _ = api_token_create(workspace=workspace, user=owner, name="spare")

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    def call(method: str, path: str, body=None, expect: int = 201) -> dict:
        response = getattr(api, method)(f"/api/v1/{path}", body, format="json")
        assert response.status_code == expect, (path, response.status_code, response.content)
        return response.json() if response.content else {}

    workflow = call("post", "workflows", {"name": "Echo"})
    call("post", f"workflows/{workflow['id']}/publish", {"note": "first"})
    run = call("post", f"workflows/{workflow['id']}/runs", {"input": {"message": "hi"}, "version": 1, "wait": 30})
    assert run["status"] == "succeeded", run
    trigger = call("post", f"workflows/{workflow['id']}/triggers", {"name": "hook"})
    secret = call("post", "secrets", {"name": "API_KEY", "value": "s3cret-value"})
    # base_url "" is OpenAI's own endpoint: the value the issue found documented as a URI.
    provider = call("post", "providers", {"name": "OpenAI", "base_url": "", "models": ["gpt-4.1-mini"]})
    # The evals and chat reads answer with real objects too: a dataset with an item and a grader, a finished eval
    # of it, feedback on the run, a publish gate, and a chat deployment with a conversation.
    flow = f"workflows/{workflow['id']}"
    grader = {"type": "cel", "name": "answered", "expression": "output != null"}
    dataset = call("post", f"{flow}/datasets", {"name": "golden", "graders": [grader]})
    call("post", f"{flow}/datasets/{dataset['id']}/items", {"items": [{"input": {"message": "hi"}, "tags": ["a"]}]})
    started = call("post", f"{flow}/evals", {"dataset": dataset["id"], "version": 1})
    assert eval_wait(eval_id=started["id"], timeout_s=30).status == "succeeded"
    call("post", f"runs/{run['id']}/feedback", {"score": 1, "comment": "good"})
    call("put", f"{flow}/publish-gate", {"dataset": dataset["id"], "min_pass_rate": 0.5}, expect=200)
    deployment = call("post", f"{flow}/deployments", {"title": "Help"})
    visitor = ChatVisitor.objects.create(deployment_id=deployment["id"])
    thread = ChatThread.objects.create(deployment_id=deployment["id"], visitor=visitor, title="hi", message_count=2)
    ChatMessage.objects.create(thread=thread, role="user", content="hi")
    ChatMessage.objects.create(thread=thread, role="assistant", content="**hi**", run_id=run["id"])
    return token, {
        "TRELLIS_ST_WORKSPACE_ID": str(workspace.pk),
        "TRELLIS_ST_SPARE_WORKSPACE_ID": str(spare_workspace.pk),
        "TRELLIS_ST_SPARE_TOKEN_ID": str(spare_token.pk),
        "TRELLIS_ST_MEMBER_ID": str(member.pk),
        "TRELLIS_ST_WORKFLOW_ID": workflow["id"],
        "TRELLIS_ST_RUN_ID": run["id"],
        "TRELLIS_ST_TRIGGER_ID": trigger["id"],
        "TRELLIS_ST_SECRET_ID": str(secret["id"]),
        "TRELLIS_ST_PROVIDER_ID": str(provider["id"]),
        "TRELLIS_ST_DATASET_ID": dataset["id"],
        "TRELLIS_ST_EVAL_ID": started["id"],
        "TRELLIS_ST_DEPLOYMENT_ID": deployment["id"],
        "TRELLIS_ST_THREAD_ID": str(thread.pk),
    }


@pytest.fixture
def nothing_leaves_the_machine(monkeypatch, settings):
    """Generated data holds URLs (provider base_url, callback_url, http_request nodes) that the server would
    call: every outbound call goes through the SSRF guard's resolver, which here resolves nothing, and no
    operator-configured model provider (unguarded) exists."""

    def resolve_nothing(host, port):
        raise socket.gaierror(socket.EAI_NONAME, "no name resolution in the conformance test")

    monkeypatch.setattr("trellis.net._getaddrinfo", resolve_nothing)
    settings.OPENAI_API_KEY = ""
    settings.LOCAL_TEST_MODEL = False


@pytest.mark.openapi
@pytest.mark.timeout(RUN_TIMEOUT_S + 60)
def test_schemathesis_finds_no_server_error_and_no_answer_that_differs_from_the_openapi_document(
    transactional_db, nothing_leaves_the_machine
):
    token, ids = _seed()
    schemathesis = Path(sys.executable).with_name("schemathesis")
    report = ROOT / "test-artifacts" / "schemathesis"

    with live_server_thread() as url:
        result = subprocess.run(
            [
                str(schemathesis),
                "--no-color",
                "--config-file",
                str(CONFIG),
                "run",
                f"{url}/api/schema/",
                "--header",
                f"Authorization: Bearer {token}",
                "--workers",
                "1",
                "--request-timeout",
                "30",
                "--report",
                "junit",
                "--report-dir",
                str(report),
            ],
            env={**os.environ, **ids},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
        )

    report.mkdir(parents=True, exist_ok=True)
    (report / "output.txt").write_text(result.stdout + result.stderr)
    summary = result.stdout[result.stdout.find("=== FAILURES ===") - 40 :] if result.returncode else ""
    assert result.returncode == 0, f"schemathesis exited with {result.returncode}:\n{summary or result.stdout}"
