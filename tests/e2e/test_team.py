"""Issue 6, team: an owner invites a viewer, who signs up through the link and is offered nothing that edits."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.screens import approval, graph, transform

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.fixtures_screens"]


def test_an_invited_viewer_signs_up_and_sees_no_edit_controls(page, api, browser, trellis_server, shot):
    # given a workspace with a published workflow, a finished run, a waiting run and a trigger
    wf = api.workflow("Viewer can look", graph(transform("t", "Tidy", {"x": "workflow.input.message"})), publish="v1")
    done = api.run(wf, "hi", wait=20)
    waiting_wf = api.workflow("Needs approval", graph(approval()), publish="v1")
    waiting = api.run(waiting_wf, "refund")
    api.wait_for(waiting["id"], {"waiting"})
    api.call("POST", f"workflows/{wf}/triggers", {"name": "CRM", "auth_mode": "signature"})

    # when the owner invites a viewer from Settings → Invitations
    email = f"viewer-{uuid.uuid4().hex[:6]}@example.com"
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Invitations").click()
    form = page.get_by_role("form", name="Invite someone")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Invitation role").select_option("viewer")
    form.get_by_role("button", name="Invite").click()
    link = page.get_by_role("status", name="Invitation link").locator("code").inner_text()
    expect(page.get_by_role("table", name="Pending invitations")).to_contain_text(email)
    shot(page, "50-team-invitation")

    # and the invitee opens the link in their own browser and creates an account
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=trellis_server)
    try:
        guest = context.new_page()
        guest.set_default_timeout(15_000)
        guest.goto(link)
        expect(guest.get_by_role("heading", name="Join Demo")).to_contain_text("Join")
        guest.get_by_label("Name").fill("Vera Viewer")
        guest.get_by_label("Password").fill("viewer-Password-123")
        guest.get_by_role("button", name="Create account and join").click()
        guest.wait_for_url("**/workflows")

        # then they see the workspace's workflows but no way to create one
        expect(guest.get_by_role("link", name=re.compile("^Viewer can look"))).to_be_visible()
        expect(guest.get_by_role("button", name="+ New workflow")).to_have_count(0)
        expect(guest.get_by_role("button", name="From template…")).to_have_count(0)
        guest.screenshot(path=str(SCREENSHOTS / "51-viewer-workflows.png"))

        # and a workflow opens read-only: no palette, no publish, no test run
        guest.get_by_role("link", name=re.compile("^Viewer can look")).click()
        expect(guest.get_by_role("note")).to_contain_text("You are a viewer")
        expect(guest.get_by_label("Workflow canvas (read-only)").locator(".react-flow__node")).to_have_count(3)
        for name in ("Publish", "▶ Test run", "Undo", "Auto-layout"):
            expect(guest.get_by_role("button", name=name)).to_have_count(0)
        guest.get_by_label("Workflow canvas (read-only)").locator(".react-flow__node").nth(1).click()
        expect(guest.get_by_label("Node details")).to_contain_text("workflow.input.message")
        guest.screenshot(path=str(SCREENSHOTS / "52-viewer-readonly-workflow.png"))

        # and versions, triggers and runs offer nothing that changes anything
        guest.get_by_role("navigation", name="Workflow").get_by_role("link", name="Versions").click()
        expect(guest.get_by_role("list", name="Versions")).to_contain_text("v1")
        for name in ("Restore into draft", "Make published"):
            expect(guest.get_by_role("button", name=name)).to_have_count(0)
        guest.get_by_role("navigation", name="Workflow").get_by_role("link", name="Triggers").click()
        expect(guest.get_by_role("article", name="Trigger CRM")).to_be_visible()
        expect(guest.get_by_role("form", name="Create a webhook trigger")).to_have_count(0)
        for name in ("Disable", "Rotate secret", "Delete"):
            expect(guest.get_by_role("button", name=name)).to_have_count(0)
        guest.goto(f"/runs/{done['id']}")
        expect(guest.locator("h1 .chip")).to_have_text("Succeeded")
        for name in ("Rerun", "Rerun from this step", "Cancel run"):
            expect(guest.get_by_role("button", name=name)).to_have_count(0)
        guest.goto(f"/runs/{waiting['id']}")
        expect(guest.get_by_role("region", name="Approval for Human review")).to_contain_text("editor role or higher")
        expect(guest.get_by_role("button", name="Approve")).to_have_count(0)
        guest.screenshot(path=str(SCREENSHOTS / "53-viewer-run-waiting.png"))

        # and the server agrees: a write through the API is refused
        cookies = {c["name"]: c["value"] for c in context.cookies()}
        refused = guest.request.post(
            f"/api/v1/workflows/{wf}/runs",
            data={"input": {"message": "x"}},
            headers={"X-CSRFToken": cookies["csrftoken"], "X-Trellis-Workspace": "demo"},
        )
        assert refused.status == 403
    finally:
        context.close()

    # and the owner sees the viewer among the members
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Members").click()
    expect(page.get_by_role("table", name="Members")).to_contain_text(email)


def test_an_admin_adds_a_model_provider_and_tests_the_connection(page, api, shot):
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Model providers").click()
    form = page.get_by_role("form", name="Add a model provider")
    form.get_by_label("Provider name").fill("Unreachable")
    form.get_by_label("Base URL").fill("http://127.0.0.1:9/v1")
    form.get_by_label("API key").fill("sk-test-never-shown")
    form.get_by_label("Models").fill("gpt-4.1-mini")
    form.get_by_role("button", name="Add provider").click()
    row = page.get_by_role("table", name="Model providers").get_by_role("row").filter(has_text="Unreachable")
    expect(row).to_contain_text("stored")
    row.get_by_role("button", name="Test connection").click()
    expect(row.get_by_role("status")).to_contain_text("✗")
    expect(page.locator("body")).not_to_contain_text("sk-test-never-shown")
    shot(page, "54-settings-providers")


def test_the_template_gallery_previews_each_graph(page, api, shot):
    page.get_by_role("button", name="From template…").click()
    dialog = page.get_by_role("dialog")
    cards = dialog.locator(".template-card")
    expect(cards.first.locator("svg.graph-thumb rect").first).to_be_visible()
    assert cards.count() >= 2
    shot(page, "55-templates-gallery")
