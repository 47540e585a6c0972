"""A node type with no React folder of its own (delay) is in the palette, drawn by the generic card, configured
in the inspector built from its JSON Schema, and runs: everything the editor knows of it came from the API."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login
from tests.e2e.test_editor import connect, drag_from_palette, select_node, wait_saved

pytestmark = pytest.mark.e2e


def test_a_type_without_a_react_folder_is_built_configured_and_run_from_the_catalog(page, shot):
    login(page)
    page.get_by_role("button", name="+ New workflow").click()
    page.get_by_label("Name").fill("Pause, then answer")
    page.get_by_role("button", name="Create", exact=True).click()
    page.wait_for_url("**/workflows/*")

    # the palette entry, its label, icon and description are the catalog's
    item = page.get_by_role("button", name="Add Delay")
    expect(item).to_contain_text("◷")
    expect(item).to_contain_text("Waits N seconds, or until a time")
    page.get_by_role("button", name="zoom out").click()
    drag_from_palette(page, "start", 130, 80)
    drag_from_palette(page, "delay", 360, 80)
    drag_from_palette(page, "end", 590, 80)
    expect(page.get_by_test_id("node-delay")).to_have_attribute("aria-label", "Delay node Delay")
    connect(page, "start", "delay")
    connect(page, "delay", "end")
    expect(page.locator(".react-flow__edge")).to_have_count(2)

    # the generic inspector: one field per schema property, the default from the catalog
    select_node(page, "delay")
    seconds = page.get_by_role("spinbutton", name="Seconds")
    expect(seconds).to_have_value("60")
    seconds.fill("1")
    expect(page.get_by_text("Until", exact=True)).to_be_visible()
    wait_saved(page)
    shot(page, "30-delay-generic-inspector")

    # it runs: the run waits (no approval to give), and the reaper takes it on once the second has passed
    page.get_by_role("tab", name="Test run").click()
    page.get_by_label("message").fill("after a pause")
    page.get_by_role("button", name="▶ Run").click()
    expect(page.get_by_test_id("run-status")).to_have_text("Waiting", timeout=30_000)
    expect(page.get_by_test_id("node-delay")).to_have_class(re.compile("run-waiting"))
    expect(page.get_by_test_id("run-status")).to_have_text("Succeeded", timeout=45_000)
    expect(page.get_by_test_id("node-delay")).to_have_class(re.compile("run-succeeded"))
    expect(page.locator(".run-output")).to_contain_text("after a pause")
    expect(page.get_by_role("group", name=re.compile("Approval for"))).to_have_count(0)
