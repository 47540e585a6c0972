"""Issue 6, triggers: create a webhook trigger, fire it with the curl command the page shows, see the run."""

import json
import re
import subprocess

import pytest
from playwright.sync_api import expect

from tests.e2e.screens import graph, transform

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.fixtures_screens"]


def test_a_webhook_trigger_fired_with_the_shown_curl_starts_a_run_that_appears(page, api, shot):
    # given a published workflow
    g = graph(transform("shout", "Shout", {"text": "workflow.input.message.upperAscii()"}))
    wf = api.workflow("Webhook echo", g, publish="first")

    # when the user creates a signed webhook trigger
    page.goto(f"/workflows/{wf}/triggers")
    expect(page.get_by_role("heading", name="No webhook triggers")).to_be_visible()
    form = page.get_by_role("form", name="Create a webhook trigger")
    form.get_by_label("Trigger name").fill("From the CRM")
    form.get_by_label("Authentication").select_option("signature")
    form.get_by_role("button", name="Create webhook trigger").click()

    # then the card shows the URL, the secret once and a curl example that already contains it
    card = page.get_by_role("article", name="Trigger From the CRM")
    secret = card.get_by_label("Trigger secret").inner_text()
    assert secret.startswith("whsec_")
    url = card.get_by_label("Webhook URL").inner_text()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/hooks/\S+", url)
    curl = card.get_by_label("curl example").inner_text()
    assert secret in curl and url in curl
    shot(page, "40-trigger-created-secret-once")

    # when that exact command runs in a shell
    result = subprocess.run(["sh", "-c", curl], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["status"] == "queued", answer

    # then the delivery is listed as accepted with its run, and the run is in the workflow's run list
    deliveries = card.get_by_role("table", name="Deliveries")
    expect(deliveries).to_contain_text("accepted", timeout=10_000)
    expect(deliveries).to_contain_text(answer["run_id"][:8])
    deliveries.scroll_into_view_if_needed()
    shot(page, "41-trigger-delivery")
    page.get_by_role("navigation", name="Workflow").get_by_role("link", name="Runs").click()
    row = page.locator(f'tr[data-run-id="{answer["run_id"]}"]')
    expect(row).to_contain_text("webhook")
    expect(row).to_contain_text("Succeeded", timeout=10_000)
    row.click()
    expect(page.get_by_label("Run output", exact=True)).to_contain_text("HELLO FROM TRELLIS")

    # and once the page is left, the secret is gone for good: the examples read it from the environment
    page.go_back()
    page.get_by_role("navigation", name="Workflow").get_by_role("link", name="Triggers").click()
    expect(card.get_by_label("curl example")).to_contain_text("$TRELLIS_WEBHOOK_SECRET")
    expect(page.locator("body")).not_to_contain_text(secret)


def test_disabling_and_rotating_a_trigger(page, api, shot):
    wf = api.workflow("Rotating", graph(transform("t", "T", {"x": "1"})), publish="first")
    created = api.call("POST", f"workflows/{wf}/triggers", {"name": "Ops", "auth_mode": "bearer"})
    page.goto(f"/workflows/{wf}/triggers")
    card = page.get_by_role("article", name="Trigger Ops")
    expect(card).to_contain_text("Bearer secret")
    expect(card).not_to_contain_text(created["secret"])

    card.get_by_role("button", name="Disable").click()
    expect(card.locator(".chip").first).to_have_text("disabled")
    assert api.call("GET", f"workflows/{wf}/triggers/{created['id']}")["enabled"] is False

    card.get_by_role("button", name="Rotate secret").click()
    new_secret = card.get_by_label("Trigger secret").inner_text()
    assert new_secret.startswith("whsec_") and new_secret != created["secret"]
    expect(card).to_contain_text("Previous secret")
    shot(page, "42-trigger-rotated")
