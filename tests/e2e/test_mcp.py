"""MCP in the browser: the MCP servers settings page with fetched tools, the mcp node's inspector, and an
agent's MCP tool call that waits for approval and is approved in the run view. The MCP server is a real
FastMCP server on loopback in the test process (the e2e server allowlists 127.0.0.1)."""

import uuid

import pytest
from playwright.sync_api import expect

from runs.testing.mcp_server import McpTestServer
from tests.e2e.screens import graph

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.fixtures_screens"]


@pytest.fixture(scope="module")
def mcp_server():
    server = McpTestServer()
    yield server
    server.stop()


@pytest.fixture
def calc(api, mcp_server):
    """A workspace MCP server named calc-<random> (the e2e database lives for the whole session)."""
    server = api.call(
        "POST",
        "mcp-servers",
        {"name": f"calc-{uuid.uuid4().hex[:6]}", "url": mcp_server.url, "allowed_tools": ["add", "echo"]},
    )
    return server


def test_mcp_servers_settings_fetch_and_show_the_servers_tools(page, api, calc, shot):
    page.goto("/settings/mcp-servers")
    row = page.get_by_role("row").filter(has_text=calc["name"])
    expect(row).to_contain_text("not fetched")

    row.get_by_role("button", name="Fetch tools").click()

    tools = page.get_by_role("list", name=f"Tools of {calc['name']}")
    expect(tools).to_contain_text("add")
    expect(tools).to_contain_text("Adds two integers.")
    expect(tools).to_contain_text("echo")
    shot(page, "mcp-01-settings-servers")


def test_the_mcp_node_inspector_picks_a_fetched_tool_and_offers_its_arguments(page, api, calc, shot):
    api.call("POST", f"mcp-servers/{calc['id']}/tools", {})
    call = {
        "id": "call",
        "type": "mcp",
        "name": "Add numbers",
        "config": {"server": calc["name"], "tool": "", "arguments": {}},
    }
    wf = api.workflow("MCP node", graph(call))
    page.goto(f"/workflows/{wf}")
    page.locator('.react-flow__node[data-id="call"]').click()

    expect(page.get_by_role("button", name="Refresh tools")).to_be_visible()  # the fetched tools are loaded
    page.get_by_label("Tool", exact=True).select_option("add")
    page.get_by_role("button", name="Add the missing arguments").click()

    expect(page.get_by_label("Arguments key 1")).to_have_value("a")
    expect(page.get_by_label("Arguments key 2")).to_have_value("b")
    expect(page.get_by_text("Adds two integers.")).to_be_visible()
    shot(page, "mcp-02-node-inspector")


def test_an_agents_mcp_tool_call_waits_for_approval_and_is_approved_in_the_run_view(page, api, calc, shot):
    agent = {
        "id": "bot",
        "type": "agent",
        "name": "Calculator",
        "config": {
            "model": "gpt-4.1-mini",
            "instructions": "Please use add.",
            "tools": [{"type": "mcp", "server": calc["name"], "require_approval": "always"}],
        },
    }
    wf = api.workflow("MCP approval", graph(agent), publish="first")
    run = api.run(wf, "go")
    waiting = api.wait_for(run["id"], {"waiting", "failed"})
    assert waiting["status"] == "waiting", waiting.get("error")

    page.goto(f"/runs/{run['id']}")
    box = page.get_by_role("region", name="Approval for Calculator")
    expect(box).to_contain_text("The agent wants to call add on")
    expect(box).to_contain_text("on MCP server")
    shot(page, "mcp-03-run-waiting-for-tool-approval")
    box.get_by_role("button", name="Approve").click()

    expect(page.locator("h1 .chip")).to_have_text("Succeeded", timeout=15_000)
    finished = api.call("GET", f"runs/{run['id']}")
    assert finished["output"] == {"result": 'The add tool returned: {\n  "sum": 2\n}'}
    shot(page, "mcp-04-run-approved")


def test_the_agent_inspector_adds_an_mcp_server_whose_calls_need_approval(page, api, calc, shot):
    agent = {
        "id": "bot",
        "type": "agent",
        "name": "Calculator",
        "config": {"model": "gpt-4.1-mini", "instructions": "Hi"},
    }
    wf = api.workflow("MCP agent tools", graph(agent))
    page.goto(f"/workflows/{wf}")
    page.locator('.react-flow__node[data-id="bot"]').click()

    page.get_by_role("button", name="+ Add MCP server").click()
    page.get_by_label("MCP tool server 1").select_option(calc["name"])
    page.get_by_label("MCP tool allowlist 1").fill("add")

    expect(page.get_by_label("MCP tool approval 1")).to_have_value("always")
    shot(page, "mcp-05-agent-inspector-tools")
    expect(page.get_by_test_id("save-state")).to_have_text("Saved", timeout=10_000)  # autosave
    draft = api.call("GET", f"workflows/{wf}/draft")
    bot = next(n for n in draft["graph"]["nodes"] if n["id"] == "bot")
    assert bot["config"]["tools"] == [
        {"type": "mcp", "server": calc["name"], "require_approval": "always", "allowed_tools": ["add"]}
    ]


def test_expose_as_mcp_tool_is_toggled_on_the_triggers_tab_and_names_the_tool(page, api, shot):
    wf = api.workflow("Support Desk", graph(), publish="first")
    page.goto(f"/workflows/{wf}/triggers")
    panel = page.get_by_role("region", name="MCP tool")

    panel.get_by_label("Expose as MCP tool").click()

    expect(panel.get_by_label("Expose as MCP tool")).to_be_checked()
    expect(panel).to_contain_text("and see this workflow as the tool support-desk-")
    shot(page, "mcp-06-expose-as-tool")
    workflow = api.call("GET", f"workflows/{wf}")
    assert workflow["expose_as_tool"] is True
    assert workflow["slug"].startswith("support-desk-")
