"""Issue 5: saving never loses work silently (409 → a clear choice), copy/paste between workflows,
and the keyboard help overlay."""

import pytest
from playwright.sync_api import Page, expect

from runs.testing.graphs import agent_graph
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e

GRAPH = agent_graph("answer")


def create_workflow(page: Page, name: str, graph: dict) -> str:
    return page.evaluate(
        """async ([name, graph]) => {
          const csrf = document.cookie.match(/csrftoken=([^;]+)/)[1];
          const r = await fetch('/api/v1/workflows', {method: 'POST', headers: {'Content-Type': 'application/json',
            'X-CSRFToken': csrf, 'X-Trellis-Workspace': 'demo'}, body: JSON.stringify({name, graph})});
          if (!r.ok) throw new Error(await r.text());
          return (await r.json()).id;
        }""",
        [name, graph],
    )


def open_editor(page: Page, workflow_id: str) -> None:
    page.goto(f"/workflows/{workflow_id}")
    expect(page.get_by_test_id("node-answer")).to_be_visible()
    expect(page.get_by_test_id("save-state")).to_have_text("Saved")


def rename(page: Page, node_id: str, name: str) -> None:
    page.get_by_test_id(f"node-{node_id}").locator(".card-head").click()
    page.get_by_label("Node name").fill(name)


def test_a_stale_save_asks_whether_to_reload_theirs_or_overwrite_with_mine(page, shot):
    login(page)
    workflow_id = create_workflow(page, "Shared draft", GRAPH)
    other = page.context.new_page()  # a second tab of the same user
    open_editor(page, workflow_id)
    open_editor(other, workflow_id)

    # when the other tab saves first
    rename(other, "answer", "Answer (theirs)")
    expect(other.get_by_test_id("save-state")).to_have_text("Saved", timeout=10_000)
    # and this tab saves on top of the older revision
    rename(page, "done", "Done (mine)")
    dialog = page.get_by_role("dialog", name="This workflow was changed elsewhere")
    expect(dialog).to_be_visible(timeout=10_000)
    expect(dialog).to_contain_text("Configured differently: answer, done")
    expect(page.get_by_test_id("save-state")).to_have_text("Conflict — choose a version")
    shot(page, "20-conflict-dialog")

    # then reloading theirs shows their change and drops mine
    dialog.get_by_role("button", name="Reload theirs (discard mine)").click()
    expect(page.get_by_test_id("node-answer")).to_contain_text("Answer (theirs)")
    expect(page.get_by_test_id("node-done")).to_contain_text("Done")
    expect(page.get_by_test_id("node-done")).not_to_contain_text("mine")
    expect(page.get_by_test_id("save-state")).to_have_text("Saved")

    # and when it happens again, overwriting with mine keeps mine and saves it
    rename(other, "answer", "Answer v3")
    expect(other.get_by_test_id("save-state")).to_have_text("Saved", timeout=10_000)
    rename(page, "done", "Done (mine)")
    dialog.get_by_role("button", name="Overwrite with mine").click()
    expect(page.get_by_test_id("save-state")).to_have_text("Saved", timeout=10_000)
    other.reload()
    expect(other.get_by_test_id("node-done")).to_contain_text("Done (mine)")
    other.close()


def test_copy_paste_between_workflows_and_the_shortcuts_overlay(page, shot):
    login(page)
    source = create_workflow(page, "Copy from", GRAPH)
    target = create_workflow(page, "Paste into", {"format": "trellis.graph/1", "nodes": [], "edges": []})
    open_editor(page, source)

    # select Answer and Done (shift-click adds), copy
    page.get_by_test_id("node-answer").locator(".card-head").click()
    page.get_by_test_id("node-done").locator(".card-head").click(modifiers=["Shift"])
    expect(page.locator(".react-flow__node.selected")).to_have_count(2)
    page.keyboard.press("Control+c")

    page.goto(f"/workflows/{target}")
    expect(page.get_by_text("Start building")).to_be_visible()
    page.locator(".react-flow__pane").click(position={"x": 300, "y": 300})
    page.keyboard.press("Control+v")
    expect(page.get_by_test_id("node-answer")).to_be_visible()
    expect(page.get_by_test_id("node-done")).to_be_visible()
    expect(page.locator(".react-flow__edge")).to_have_count(1)  # the edge between them came along
    expect(page.get_by_test_id("save-state")).to_have_text("Saved", timeout=10_000)

    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_contain_text("Undo")
    expect(help_dialog).to_contain_text("Auto-layout")
    shot(page, "21-shortcuts-help")
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()


def test_inspector_forms_template_autocomplete_and_schema_editor(page, shot):
    login(page)
    open_editor(page, create_workflow(page, "Forms", GRAPH))

    # Start: the run input is edited as a form of fields
    page.get_by_test_id("node-start").locator(".card-head").click()
    page.get_by_role("button", name="+ Add field").first.click()
    page.get_by_label("Field 2 name").fill("customer_id")
    page.get_by_label("Field customer_id type").select_option("integer")
    shot(page, "22-inspector-start-schema")

    # Agent: the template editor completes names inside {{ }}, including the new input field
    page.get_by_test_id("node-answer").locator(".card-head").click()
    instructions = page.get_by_role("combobox", name="Instructions")
    instructions.fill("")
    instructions.press_sequentially("Customer {{ workflow.input.cu")
    suggestions = page.get_by_role("listbox", name="Names in scope for Instructions")
    expect(suggestions).to_contain_text("workflow.input.customer_id")
    instructions.press("Enter")
    instructions.press_sequentially(" }} asks")
    expect(instructions).to_have_value("Customer {{ workflow.input.customer_id }} asks")

    # structured output: form view, then the raw JSON view of the same schema
    page.get_by_label("Output format").select_option("json_schema")
    schema = page.get_by_role("group", name="Agent output schema")
    expect(schema.get_by_label("Field 1 name")).to_have_value("answer")
    shot(page, "23-inspector-agent")
    schema.get_by_role("tab", name="JSON").click()
    expect(schema.get_by_label("Agent output schema (JSON)")).to_have_value(
        '{\n  "type": "object",\n  "properties": {\n    "answer": {\n      "type": "string"\n    }\n  },\n'
        '  "required": [\n    "answer"\n  ]\n}'
    )
    expect(page.get_by_test_id("save-state")).to_have_text("Saved", timeout=10_000)

    # the End node now offers the agent's structured fields
    page.get_by_test_id("node-done").locator(".card-head").click()
    reply = page.get_by_role("combobox", name="Output reply")
    reply.fill("")
    reply.press_sequentially("nodes.answer.output.")
    expect(page.get_by_role("listbox", name="Names in scope for Output reply")).to_contain_text(
        "nodes.answer.output.answer"
    )


def test_switching_workspace_in_the_editor_goes_to_that_workspaces_workflows(page):
    login(page)
    workflow_id = create_workflow(page, "Switch away", GRAPH)
    slug = page.evaluate(
        """async () => {
          const csrf = document.cookie.match(/csrftoken=([^;]+)/)[1];
          const r = await fetch('/api/v1/workspaces', {method: 'POST', headers: {'Content-Type': 'application/json',
            'X-CSRFToken': csrf}, body: JSON.stringify({name: 'Elsewhere ' + Date.now()})});
          return (await r.json()).slug;
        }"""
    )
    open_editor(page, workflow_id)
    page.get_by_label("Workspace").select_option(slug)
    page.wait_for_url("**/workflows")
    expect(page.get_by_role("heading", name="No workflows yet")).to_be_visible()
    expect(page.get_by_role("link", name="Switch away")).to_have_count(0)
