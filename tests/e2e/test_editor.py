"""Issue 5: build a workflow on a blank canvas, configure it (with autocomplete), see validation react,
undo/redo, run it against the local model with streamed text, approve the waiting step, publish."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e


def drag_from_palette(page: Page, node_type: str, x: int, y: int) -> None:
    page.locator(f'.palette [data-node-type="{node_type}"]').drag_to(
        page.locator(".react-flow__pane"), target_position={"x": x, "y": y}
    )
    expect(page.get_by_test_id(f"node-{node_type}")).to_be_visible()


def connect(page: Page, source: str, target: str, port: str = "out") -> None:
    src = page.locator(f'[data-testid="node-{source}"] .react-flow__handle.source[data-handleid="{port}"]')
    dst = page.locator(f'[data-testid="node-{target}"] .react-flow__handle.target')
    a, b = src.bounding_box(), dst.bounding_box()
    page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move(a["x"] + a["width"] / 2 - 8, a["y"] + a["height"] / 2 + 8, steps=3)
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=12)
    page.mouse.up()


def select_node(page: Page, node_id: str) -> None:
    page.get_by_test_id(f"node-{node_id}").locator(".card-head").click()
    expect(page.get_by_label("Node id")).to_have_value(node_id)


def wait_saved(page: Page) -> None:
    expect(page.get_by_test_id("save-state")).to_have_text("Saved", timeout=10_000)


def test_build_validate_run_approve_and_publish_from_a_blank_canvas(page, shot):
    login(page)
    page.get_by_role("button", name="+ New workflow").click()
    page.get_by_label("Name").fill("Reply with approval")
    page.get_by_role("button", name="Create", exact=True).click()
    page.wait_for_url("**/workflows/*")
    expect(page.get_by_text("Start building")).to_be_visible()

    # build: drag the nodes from the palette onto the canvas (zoomed out a step so that no port sits
    # in the auto-pan margin at the canvas edge while connecting)
    page.get_by_role("button", name="zoom out").click()
    drag_from_palette(page, "start", 130, 80)
    drag_from_palette(page, "agent", 360, 80)
    drag_from_palette(page, "if_else", 590, 80)
    drag_from_palette(page, "user_approval", 130, 330)
    drag_from_palette(page, "transform", 360, 330)
    drag_from_palette(page, "end", 590, 330)
    shot(page, "10-editor-nodes-dropped")

    # connect them; a connection into Start is refused while dragging
    connect(page, "start", "agent")
    connect(page, "agent", "if_else")
    connect(page, "if_else", "user_approval", port="case_1")
    connect(page, "user_approval", "transform", port="approved")
    connect(page, "transform", "end")
    connect(page, "if_else", "end", port="else")
    expect(page.locator(".react-flow__edge")).to_have_count(6)
    connect(page, "transform", "agent")  # would close a cycle outside a While loop: refused while dragging
    expect(page.locator(".canvas-hint")).to_contain_text("cycle")
    expect(page.locator(".react-flow__edge")).to_have_count(6)
    wait_saved(page)

    # configure: a broken condition shows a validation error on the node and in the issues panel
    select_node(page, "if_else")
    condition = page.get_by_role("combobox", name="Condition for Case 1")
    condition.fill("nodes.nope.output == 'x'")
    wait_saved(page)
    expect(page.get_by_test_id("node-if_else").locator(".badge-error")).to_have_text("1")
    expect(page.get_by_role("alert").filter(has_text="Node 'nope' does not exist.")).to_be_visible()
    expect(page.get_by_role("button", name="Publish", exact=True)).to_be_disabled()
    shot(page, "11-validation-error-inline")
    page.get_by_role("tab", name=re.compile("Issues")).click()
    issue = page.get_by_role("list", name="Validation issues").get_by_role("button").first
    expect(issue).to_contain_text("Node 'nope' does not exist.")
    shot(page, "12-validation-issues-panel")
    issue.click()  # selects the node and focuses the field
    expect(page.get_by_role("combobox", name="Condition for Case 1")).to_be_focused()

    # fix it with autocomplete of the names in scope
    condition = page.get_by_role("combobox", name="Condition for Case 1")
    condition.fill("")
    condition.press_sequentially("nodes.ag")
    suggestions = page.get_by_role("listbox", name=re.compile("Names in scope"))
    expect(suggestions).to_contain_text("nodes.agent.output")
    expect(suggestions).not_to_contain_text("nodes.transform")  # downstream is not in scope
    shot(page, "13-autocomplete")
    condition.press("Enter")
    condition.press_sequentially(" != ''")
    expect(condition).to_have_value("nodes.agent.output != ''")
    wait_saved(page)
    expect(page.get_by_test_id("node-if_else").locator(".badge-error")).to_have_count(0)
    page.get_by_role("tab", name=re.compile("Issues")).click()
    expect(page.get_by_text("No problems found")).to_be_visible()
    expect(page.get_by_role("button", name="Publish", exact=True)).to_be_enabled()

    # the Transform builds the reply from the agent's output
    select_node(page, "transform")
    page.get_by_label("Output key 1").fill("reply")
    page.get_by_role("combobox", name="Output reply").fill("nodes.agent.output")
    wait_saved(page)

    # undo / redo: delete End, undo brings it back with its edges, redo removes it again
    select_node(page, "end")
    page.get_by_role("button", name="Delete End").click()
    expect(page.get_by_test_id("node-end")).to_have_count(0)
    expect(page.locator(".react-flow__edge")).to_have_count(4)
    page.locator(".react-flow__pane").click(position={"x": 650, "y": 600})
    page.keyboard.press("Control+z")
    expect(page.get_by_test_id("node-end")).to_be_visible()
    expect(page.locator(".react-flow__edge")).to_have_count(6)
    page.keyboard.press("Control+Shift+z")
    expect(page.get_by_test_id("node-end")).to_have_count(0)
    page.get_by_role("button", name="Undo").click()
    expect(page.locator(".react-flow__edge")).to_have_count(6)
    page.keyboard.press("l")  # auto-layout
    wait_saved(page)
    shot(page, "14-built-and-laid-out")

    # run it against the local model: text streams in, the approval waits, approve it
    page.get_by_role("tab", name="Test run").click()
    page.get_by_label("message").fill("hello from the e2e test")
    page.get_by_role("button", name="▶ Run").click()
    # Deltas are live only: the first words can stream before the page has subscribed, the rest arrive as written.
    expect(page.get_by_test_id("stream-agent")).to_contain_text("Answer: hello from the e2e test", timeout=30_000)
    expect(page.get_by_test_id("run-status")).to_have_text("Waiting for approval", timeout=30_000)
    expect(page.get_by_test_id("node-user_approval")).to_have_class(re.compile("run-waiting"))
    expect(page.get_by_test_id("node-agent")).to_have_class(re.compile("run-succeeded"))
    shot(page, "15-run-waiting-for-approval")
    page.get_by_role("group", name="Approval for user_approval").get_by_role("button", name="Approve").click()
    expect(page.get_by_test_id("run-status")).to_have_text("Succeeded", timeout=30_000)
    expect(page.get_by_test_id("node-end")).to_have_class(re.compile("run-succeeded"))
    expect(page.locator(".run-output")).to_contain_text("You said")
    transform_step = page.locator(".step").filter(has_text="Transform")
    transform_step.locator("summary").click()
    expect(transform_step.get_by_role("heading", name="Input")).to_be_visible()
    expect(transform_step).to_contain_text('"decision": "approved"')  # its input: the approval's decision
    shot(page, "16-run-succeeded")

    # publish with a note
    page.get_by_role("button", name="Publish", exact=True).click()
    page.get_by_label("Version note").fill("First version")
    page.get_by_role("dialog").get_by_role("button", name="Publish").click()
    expect(page.get_by_role("dialog")).to_contain_text("Published version 1")
    shot(page, "17-published")
