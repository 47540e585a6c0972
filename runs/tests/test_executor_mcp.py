"""The `mcp` node against a real MCP server (FastMCP on loopback, allowlisted): structured and text output,
tool errors, timeouts, the size cap, secrets in headers kept out of the trace, and validation of arguments
against a fetched input schema."""

import threading
import time

import pytest

from accounts.models import McpServer
from accounts.services import secret_create
from builder.services.validation import validate_graph
from runs.engine.core import ACTIVE_RUNS, Engine
from runs.models import RunEvent, Step
from runs.persistence.engine import DjangoStore
from runs.tests.helpers import line, node, start, wait_for

pytestmark = pytest.mark.django_db(transaction=True)  # executors read the server row on their own thread

ADD_SCHEMA = {
    "type": "object",
    "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
    "required": ["a", "b"],
}


@pytest.fixture
def server(workspace, mcp_test_server, allow_loopback):
    return McpServer.objects.create(workspace=workspace, name="tools", url=mcp_test_server.url)


def mcp_graph(**config):
    return line(
        start({"type": "object"}),
        node("call", "mcp", **config),
        node("end", "end", output="nodes.call.output"),
    )


def test_the_node_outputs_the_tools_structured_content(server, make_run, advance):
    run = advance(
        make_run(mcp_graph(server="tools", tool="add", arguments={"a": "workflow.input.x", "b": "4"}), {"x": 3})
    )

    assert run.error is None
    assert run.output == {"sum": 7}
    assert Step.objects.get(run=run, node_id="call").output == {"sum": 7}


def test_the_node_outputs_text_when_the_tool_has_no_structured_content(server, make_run, advance):
    server.allowed_tools = ["echo"]
    server.save()
    run = advance(make_run(mcp_graph(server="tools", tool="echo", arguments={"text": "'hi'"})))

    assert run.status == "succeeded"
    # FastMCP wraps a str return as {"result": ...} structured content.
    assert run.output == {"result": "echo: hi"}


def test_a_tool_error_fails_the_step_with_the_tools_message(server, make_run, advance):
    run = advance(make_run(mcp_graph(server="tools", tool="explode", arguments={"reason": "'no'"})))

    assert run.status == "failed"
    step = Step.objects.get(run=run, node_id="call")
    assert step.error == {
        "code": "tool_error",
        "message": "Tool 'explode' returned an error: Error executing tool explode: exploded: no",
    }


def test_a_hanging_server_fails_the_step_at_the_nodes_timeout(server, make_run, advance):
    run = advance(make_run(mcp_graph(server="tools", tool="hang", arguments={}, timeout_s=1)))

    assert run.status == "failed"
    error = Step.objects.get(run=run, node_id="call").error
    assert error["code"] == "timeout"


def test_cancelling_a_run_ends_its_mcp_call_in_flight(server, make_run, limits):
    # given: a run whose tool call hangs, advanced on another thread (the call is a task on the I/O loop)
    run = make_run(mcp_graph(server="tools", tool="hang", arguments={}, timeout_s=60))
    advance = threading.Thread(target=Engine(DjangoStore(), limits).advance, args=(str(run.pk),))
    advance.start()
    wait_for(lambda: Step.objects.filter(run=run, node_id="call", status="running").exists(), 20, "the call")
    # when
    cancelled_at = time.monotonic()
    ACTIVE_RUNS[str(run.pk)].set()
    advance.join(10)
    # then: the run ends at once, its step cancelled, long before the node's 60 s timeout
    assert not advance.is_alive()
    assert time.monotonic() - cancelled_at < 5
    run.refresh_from_db()
    assert run.status == "cancelled"
    assert Step.objects.get(run=run, node_id="call").status == "cancelled"


def test_a_huge_result_fails_the_step_at_the_size_cap(server, make_run, advance, settings):
    settings.MCP_MAX_RESPONSE_BYTES = 200_000
    run = advance(make_run(mcp_graph(server="tools", tool="huge", arguments={})))

    assert run.status == "failed"
    assert Step.objects.get(run=run, node_id="call").error == {
        "code": "response_too_large",
        "message": "MCP server 'tools', tool 'huge': The MCP server's answer is larger than the limit of 200000 "
        "bytes (TRELLIS_MCP_MAX_RESPONSE_BYTES).",
    }


def test_a_tool_outside_the_servers_allowlist_is_refused_without_a_call(server, make_run, advance):
    server.allowed_tools = ["add"]
    server.save()
    run = advance(make_run(mcp_graph(server="tools", tool="echo", arguments={"text": "'hi'"})))

    assert run.status == "failed"
    assert Step.objects.get(run=run, node_id="call").error == {
        "code": "tool_not_allowed",
        "message": "Tool 'echo' is not allowed on MCP server 'tools'.",
    }


def test_a_header_secret_reaches_the_server_and_is_redacted_from_steps_and_events(workspace, server, make_run, advance):
    secret_create(workspace=workspace, name="MCP_TOKEN", value="Bearer tok-xyz-123")
    server.headers = {"Authorization": {"secret": "MCP_TOKEN"}}
    server.save()

    run = advance(make_run(mcp_graph(server="tools", tool="whoami", arguments={})))

    assert run.status == "succeeded"
    assert "tok-xyz-123" not in str(run.output)
    assert "auth=" in str(run.output)
    assert "tok-xyz-123" not in str(list(Step.objects.filter(run=run).values("input", "output", "error")))
    assert "tok-xyz-123" not in str(list(RunEvent.objects.filter(run=run).values_list("data", flat=True)))


def test_another_workspaces_server_is_not_found(make_workspace, mcp_test_server, allow_loopback, make_run, advance):
    McpServer.objects.create(workspace=make_workspace(name="Other"), name="tools", url=mcp_test_server.url)

    run = advance(make_run(mcp_graph(server="tools", tool="add", arguments={"a": "1", "b": "2"})))

    assert run.status == "failed"
    assert Step.objects.get(run=run, node_id="call").error == {
        "code": "mcp_server_not_found",
        "message": "No MCP server named 'tools' in this workspace.",
    }


def _issues(g, workspace):
    return [(i.severity, i.node_id, i.field, i.message) for i in validate_graph(g, workspace_id=workspace.pk)]


def test_validation_checks_arguments_against_the_fetched_input_schema(workspace):
    McpServer.objects.create(
        workspace=workspace,
        name="tools",
        url="https://mcp.example.com/mcp",
        tools=[{"name": "add", "description": "", "input_schema": {**ADD_SCHEMA, "additionalProperties": False}}],
    )
    g = mcp_graph(server="tools", tool="add", arguments={"a": "1", "c": "2"})

    assert _issues(g, workspace) == [
        ("error", "call", "config.arguments", "Tool 'add' needs the argument 'b'."),
        ("error", "call", "config.arguments.c", "Tool 'add' takes no argument 'c'."),
    ]


def test_validation_reports_an_unknown_server_and_an_unknown_tool(workspace):
    McpServer.objects.create(
        workspace=workspace,
        name="tools",
        url="https://mcp.example.com/mcp",
        tools=[{"name": "add", "description": "", "input_schema": ADD_SCHEMA}],
    )

    assert _issues(mcp_graph(server="nope", tool="add", arguments={}), workspace) == [
        ("error", "call", "config.server", "No MCP server named 'nope' in this workspace."),
    ]
    assert _issues(mcp_graph(server="tools", tool="sub", arguments={}), workspace) == [
        ("error", "call", "config.tool", "MCP server 'tools' has no tool 'sub' (as last fetched)."),
    ]


def test_validation_accepts_any_arguments_while_the_tools_are_not_fetched(workspace):
    McpServer.objects.create(workspace=workspace, name="tools", url="https://mcp.example.com/mcp")

    assert _issues(mcp_graph(server="tools", tool="anything", arguments={"x": "1"}), workspace) == []
