"""An agent with the tools of a workspace MCP server (a real FastMCP server on loopback) and the local test
model: calls are traced, secrets stay out of the trace, and a call that needs approval pauses the run until
a member decides through the approvals API."""

import json

import pytest

from accounts.models import McpServer
from accounts.services import secret_create
from runs.executors.agent_tools import REJECTED
from runs.models import Run, RunEvent, Step
from runs.services import run_wait
from runs.tests.helpers import line, node, start

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tools_server(workspace, mcp_test_server, allow_loopback, settings, model_server):
    settings.OPENAI_API_KEY = "test-key"
    settings.OPENAI_BASE_URL = model_server.base_url
    return McpServer.objects.create(workspace=workspace, name="calc", url=mcp_test_server.url)


def agent_graph(prompt: str, **tool):
    return line(
        start({"type": "object"}),
        node(
            "bot",
            "agent",
            model="gpt-4.1-mini",
            instructions=prompt,
            tools=[{"type": "mcp", "server": "calc", "allowed_tools": ["add", "whoami"], **tool}],
        ),
        node("end", "end", output="nodes.bot.output"),
    )


def _start(client, workflow):
    response = client.post(f"/api/v1/workflows/{workflow.pk}/runs", {"input": {}, "wait": 20}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_the_agent_calls_an_mcp_tool_and_the_call_is_traced(tools_server, make_workflow, client_for, editor, workspace):
    workflow = make_workflow(agent_graph("Please use add."))

    body = _start(client_for(editor, workspace), workflow)

    assert body["status"] == "succeeded", body["error"]
    assert body["output"] == 'The add tool returned: {\n  "sum": 2\n}'
    [trace] = Step.objects.get(run_id=body["id"], node_id="bot").usage["tool_calls"]
    assert trace["name"] == "add"
    assert trace["server"] == "calc"
    assert trace["arguments"] == {"a": 1, "b": 1}
    assert trace["result"] == '{\n  "sum": 2\n}'
    assert isinstance(trace["latency_ms"], int)
    assert "error" not in trace


def test_a_header_secret_is_redacted_from_the_tool_trace(tools_server, make_workflow, client_for, editor, workspace):
    secret_create(workspace=workspace, name="CALC_TOKEN", value="Bearer calc-secret-991")
    tools_server.headers = {"Authorization": {"secret": "CALC_TOKEN"}}
    tools_server.save()
    workflow = make_workflow(agent_graph("Please use whoami."))

    body = _start(client_for(editor, workspace), workflow)

    assert body["status"] == "succeeded", body["error"]
    [trace] = Step.objects.get(run_id=body["id"], node_id="bot").usage["tool_calls"]
    assert trace["result"] == "auth=[redacted]"
    stored = [
        *Step.objects.filter(run_id=body["id"]).values_list("input", "output", "error", "usage", "wait"),
        *RunEvent.objects.filter(run_id=body["id"]).values_list("data", flat=True),
        *Run.objects.filter(pk=body["id"]).values_list("output", "error"),
    ]
    assert "calc-secret-991" not in json.dumps(stored, default=str)


def test_a_call_that_needs_approval_pauses_the_run_and_approving_it_finishes_the_run(
    tools_server, make_workflow, client_for, editor, viewer, workspace
):
    workflow = make_workflow(agent_graph("Please use add.", require_approval="always"))
    client = client_for(editor, workspace)

    body = _start(client, workflow)

    assert body["status"] == "waiting"
    step = next(s for s in body["steps"] if s["node_id"] == "bot")
    assert step["status"] == "waiting"
    wait = step["wait"]
    assert (wait["kind"], wait["tool"], wait["server"], wait["arguments"]) == (
        "tool_approval",
        "add",
        "calc",
        {"a": 1, "b": 1},
    )
    assert wait["message"] == 'The agent wants to call add on calc with {"a": 1, "b": 1}'
    url = f"/api/v1/runs/{body['id']}/approvals"
    denied = client_for(viewer, workspace).post(url, {"step_id": step["id"], "decision": "approved"}, format="json")
    assert denied.status_code == 403
    assert Run.objects.get(pk=body["id"]).status == "waiting"

    response = client.post(url, {"step_id": step["id"], "decision": "approved"}, format="json")

    assert response.status_code == 200
    run = run_wait(run_id=body["id"], timeout_s=20)
    assert run.status == "succeeded", run.error
    assert run.output == 'The add tool returned: {\n  "sum": 2\n}'
    steps = list(Step.objects.filter(run=run, node_id="bot").order_by("order"))
    assert [(s.status, s.port) for s in steps] == [("succeeded", "approved"), ("succeeded", None)]
    [trace] = steps[-1].usage["tool_calls"]
    assert (trace["name"], trace["approval"], trace["result"]) == ("add", "approved", '{\n  "sum": 2\n}')
    assert steps[-1].usage["input_tokens"] > 0
    # the resumed step's transcript goes on from the checkpoint: the call made before the pause, then its result
    messages = steps[-1].usage["transcript"]["messages"]
    assert [m["role"] for m in messages] == ["assistant", "tool", "assistant"]
    assert messages[0]["tool_calls"][0]["function"] == {"name": "add", "arguments": '{"a": 1, "b": 1}'}
    assert messages[1] == {
        "role": "tool",
        "tool_call_id": messages[0]["tool_calls"][0]["id"],
        "content": '{\n  "sum": 2\n}',
    }
    assert messages[2] == {"role": "assistant", "content": run.output}


def test_a_rejected_call_is_not_made_and_the_model_is_told(tools_server, make_workflow, client_for, editor, workspace):
    workflow = make_workflow(agent_graph("Please use add.", require_approval=["add"]))
    client = client_for(editor, workspace)
    body = _start(client, workflow)
    step = next(s for s in body["steps"] if s["node_id"] == "bot")

    client.post(f"/api/v1/runs/{body['id']}/approvals", {"step_id": step["id"], "decision": "rejected"}, format="json")

    run = run_wait(run_id=body["id"], timeout_s=20)
    assert run.status == "succeeded", run.error
    assert run.output == f"The add tool returned: {REJECTED}"
    [trace] = Step.objects.filter(run=run, node_id="bot", port__isnull=True).get().usage["tool_calls"]
    assert (trace["approval"], trace["result"]) == ("rejected", REJECTED)


def test_tools_not_named_in_require_approval_run_at_once(tools_server, make_workflow, client_for, editor, workspace):
    workflow = make_workflow(agent_graph("Please use add.", require_approval=["whoami"]))

    body = _start(client_for(editor, workspace), workflow)

    assert body["status"] == "succeeded", body["error"]
    assert body["output"] == 'The add tool returned: {\n  "sum": 2\n}'


def test_a_run_resumed_later_replays_the_decided_tool_call_without_running_the_agent_again(
    tools_server, make_workflow, client_for, editor, workspace
):
    # start → agent (approval for add) → user approval → end: the second resume replays the first decision
    g = agent_graph("Please use add.", require_approval="always")
    g["nodes"].insert(2, node("check", "user_approval", message="Ship the sum?"))
    g["edges"] = [
        {"id": "e1", "source": "start", "target": "bot"},
        {"id": "e2", "source": "bot", "target": "check"},
        {"id": "e3", "source": "check", "source_port": "approved", "target": "end"},
    ]
    client = client_for(editor, workspace)
    body = _start(client, make_workflow(g))
    url = f"/api/v1/runs/{body['id']}/approvals"
    tool_step = next(s for s in body["steps"] if s["node_id"] == "bot")
    client.post(url, {"step_id": tool_step["id"], "decision": "approved"}, format="json")
    run = run_wait(run_id=body["id"], timeout_s=20)
    assert run.status == "waiting", run.error
    check = Step.objects.get(run=run, node_id="check")

    client.post(url, {"step_id": str(check.pk), "decision": "approved"}, format="json")

    run = run_wait(run_id=body["id"], timeout_s=20)
    assert run.status == "succeeded", run.error
    assert run.output == 'The add tool returned: {\n  "sum": 2\n}'
    bot_steps = list(Step.objects.filter(run=run, node_id="bot").order_by("order").values_list("status", "port"))
    assert bot_steps == [("succeeded", "approved"), ("succeeded", None)]
