"""POST /mcp: the official MCP SDK client, pointed at a live Trellis, lists and calls published workflows
that are exposed as tools."""

import json

import anyio
import httpx
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from accounts.services import api_token_create
from builder.services.workflows import workflow_update
from runs.models import Run
from runs.triggers.tests.conftest import make_graph

APPROVAL_GRAPH = {
    "format": "trellis.graph/1",
    "nodes": [
        {"id": "start", "type": "start", "name": "Start", "position": {"x": 0, "y": 0}, "config": {}},
        {
            "id": "ask",
            "type": "user_approval",
            "name": "Ask",
            "position": {"x": 200, "y": 0},
            "config": {"message": "OK?"},
        },
        {"id": "done", "type": "end", "name": "Done", "position": {"x": 400, "y": 0}, "config": {"output": "'ok'"}},
    ],
    "edges": [
        {"id": "e1", "source": "start", "target": "ask"},
        {"id": "e2", "source": "ask", "source_port": "approved", "target": "done"},
    ],
}


@pytest.fixture
def token(workspace, owner):
    return api_token_create(workspace=workspace, user=owner, name="mcp")[1]


def _with_session(url: str, token: str, work):
    async def main():
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            async with streamable_http_client(f"{url}/mcp", http_client=client) as (read, write, _):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    return await work(session)

    return anyio.run(main)


def _expose(workflow, owner, **kw):
    workflow.description = kw.pop("description", "Echoes the message.")
    workflow.save()
    return workflow_update(workflow=workflow, by=owner, expose_as_tool=True, **kw)


def test_an_mcp_client_lists_the_exposed_published_workflows_as_tools(live_url, make_workflow, owner, token):
    echo = _expose(make_workflow(name="Echo Bot"), owner)
    make_workflow(name="Hidden")  # published, not exposed
    _expose(make_workflow(name="Unpublished", published=False), owner)

    async def work(session):
        return (await session.list_tools()).tools

    tools = _with_session(live_url, token, work)

    assert [t.name for t in tools] == ["echo-bot"]
    assert echo.slug == "echo-bot"
    assert tools[0].description == "Echoes the message."
    assert tools[0].inputSchema["required"] == ["message"]
    assert tools[0].inputSchema["properties"]["count"] == {"type": "integer"}


def test_an_mcp_client_calls_a_workflow_and_gets_structured_content_and_text(live_url, make_workflow, owner, token):
    _expose(make_workflow(name="Echo"), owner, slug="echo")

    async def work(session):
        return await session.call_tool("echo", {"message": "hello"})

    result = _with_session(live_url, token, work)

    assert result.isError is False
    assert result.structuredContent == {"reply": "hello", "trigger_type": "mcp", "order": "", "source": ""}
    assert json.loads(result.content[0].text) == result.structuredContent
    run = Run.objects.get()
    assert run.trigger["type"] == "mcp"
    assert run.version.number == 1


def test_input_that_does_not_fit_the_start_schema_is_an_error_result_and_nothing_runs(
    live_url, make_workflow, owner, token
):
    _expose(make_workflow(name="Echo"), owner, slug="echo")

    async def work(session):
        return await session.call_tool("echo", {"count": 2})

    result = _with_session(live_url, token, work)

    assert result.isError is True
    assert "message" in result.content[0].text
    assert Run.objects.count() == 0


def test_a_run_waiting_for_approval_answers_with_the_runs_url(live_url, make_workflow, owner, token):
    _expose(make_workflow(name="Careful", graph=APPROVAL_GRAPH), owner, slug="careful")

    async def work(session):
        return await session.call_tool("careful", {})

    result = _with_session(live_url, token, work)

    run = Run.objects.get()
    assert result.isError is False
    assert (
        result.content[0].text == f"The run is waiting for approval. Approve or reject it at {live_url}/runs/{run.pk}"
    )
    assert result.structuredContent == {"run_id": str(run.pk), "status": "waiting", "url": f"{live_url}/runs/{run.pk}"}


def test_a_workflow_that_is_not_exposed_cannot_be_called(live_url, make_workflow, owner, token):
    make_workflow(name="Secret", graph=make_graph())
    workflow_update(workflow=make_workflow(name="Other"), by=owner, slug="secret-flow")

    async def work(session):
        return await session.call_tool("secret-flow", {"message": "x"})

    result = _with_session(live_url, token, work)

    assert result.isError is True
    assert result.content[0].text == "No tool named 'secret-flow'."
    assert Run.objects.count() == 0


def test_another_workspaces_token_sees_none_of_its_tools(live_url, make_workflow, owner, make_workspace):
    _expose(make_workflow(name="Echo"), owner, slug="echo")
    other = make_workspace(name="Other")
    other_token = api_token_create(workspace=other, user=other.memberships.get().user, name="t")[1]

    async def work(session):
        return (await session.list_tools()).tools, await session.call_tool("echo", {"message": "x"})

    tools, result = _with_session(live_url, other_token, work)

    assert tools == []
    assert result.isError is True
    assert Run.objects.count() == 0


def test_a_request_without_a_valid_token_is_refused(live_url, make_workflow, owner):
    _expose(make_workflow(name="Echo"), owner, slug="echo")

    response = httpx.post(
        f"{live_url}/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={"Authorization": "Bearer trl_nope", "Accept": "application/json, text/event-stream"},
    )

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_a_body_over_the_request_limit_is_refused_before_it_is_read(live_url, token, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = httpx.post(
        f"{live_url}/mcp",
        content=b"{" + b" " * 5000 + b"}",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )

    assert response.status_code == 413


def test_a_viewers_token_lists_the_tools_but_cannot_run_them(live_url, make_workflow, owner, workspace, member):
    _expose(make_workflow(name="Echo"), owner, slug="echo")
    viewer_token = api_token_create(workspace=workspace, user=member(workspace, "viewer"), name="v")[1]

    async def work(session):
        return (await session.list_tools()).tools, await session.call_tool("echo", {"message": "x"})

    tools, result = _with_session(live_url, viewer_token, work)

    assert [t.name for t in tools] == ["echo"]
    assert result.isError is True
    assert result.content[0].text == "Running a workflow needs the editor role or higher."
    assert Run.objects.count() == 0
