"""Issue 6, runs: the run list updates live, filters by status, and a failed run leads to its failing step."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.screens import approval, graph, transform

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.fixtures_screens"]


def test_a_run_appears_and_changes_status_in_the_list_without_a_reload(page, api, shot):
    # given a published workflow that waits for a human approval
    wf = api.workflow("Refund approval", graph(approval()), publish="first")
    page.goto(f"/workflows/{wf}/runs")
    expect(page.get_by_role("heading", name="No runs yet")).to_be_visible()

    # when a run starts elsewhere (the API), the open list shows it waiting
    run = api.run(wf, "refund please")
    row = page.locator(f'tr[data-run-id="{run["id"]}"]')
    expect(row).to_contain_text("Waiting", timeout=10_000)
    expect(row).to_contain_text("v1")
    expect(row).to_contain_text("manual")
    shot(page, "20-runs-list-live-waiting")

    # and when someone approves it, the same row turns to succeeded, still without a reload
    waiting = api.wait_for(run["id"], {"waiting"})
    step = next(s for s in waiting["steps"] if s["status"] == "waiting")
    api.call("POST", f"runs/{run['id']}/approvals", {"step_id": step["id"], "decision": "approved", "comment": ""})
    expect(row).to_contain_text("Succeeded", timeout=10_000)
    shot(page, "21-runs-list-live-succeeded")

    # and a "to" date before the run hides it; clearing the filters brings it back
    page.get_by_label("To").fill("2020-01-31")
    expect(page.get_by_role("heading", name="No runs match these filters")).to_be_visible()
    page.get_by_role("button", name="Clear filters").click()
    expect(row).to_contain_text("Succeeded")

    # and the server applies the trigger and version filters: a webhook or draft filter hides this run,
    # a manual v1 filter keeps it
    page.get_by_label("Trigger").select_option("webhook")
    expect(page.get_by_role("heading", name="No runs match these filters")).to_be_visible()
    page.get_by_label("Trigger").select_option("manual")
    expect(row).to_contain_text("Succeeded")
    page.get_by_label("Version").fill("draft")
    expect(page.get_by_role("heading", name="No runs match these filters")).to_be_visible()
    page.get_by_label("Version").fill("1")
    expect(row).to_contain_text("Succeeded")
    page.get_by_role("button", name="Clear filters").click()


def test_a_waiting_run_is_approved_from_its_page_and_the_trace_shows_every_step(page, api, shot):
    wf = api.workflow("Approval from the page", graph(approval(message="Refund 40 EUR?")), publish="first")
    run = api.run(wf, "refund")
    api.wait_for(run["id"], {"waiting"})
    page.goto(f"/runs/{run['id']}")
    box = page.get_by_role("region", name="Approval for Human review")
    expect(box).to_contain_text("Refund 40 EUR?")
    shot(page, "22-run-waiting-for-approval")
    box.get_by_label("Comment").fill("ok")
    box.get_by_role("button", name="Approve").click()
    expect(page.locator("h1 .chip")).to_have_text("Succeeded", timeout=10_000)
    timeline = page.get_by_role("list", name="Step timeline")
    expect(timeline.get_by_role("listitem")).to_have_count(3)
    expect(page.get_by_label("Run trace").locator(".card.run-succeeded")).to_have_count(3)


def test_a_waiting_run_is_cancelled_from_its_page(page, api):
    wf = api.workflow("Cancel me", graph(approval()), publish="first")
    run = api.run(wf, "refund")
    api.wait_for(run["id"], {"waiting"})
    page.goto(f"/runs/{run['id']}")
    expect(page.locator("h1 .chip")).to_have_text("Waiting")
    page.get_by_role("button", name="Cancel run").click()
    expect(page.locator("h1 .chip")).to_have_text("Cancelled", timeout=10_000)
    expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)
    assert api.call("GET", f"runs/{run['id']}")["status"] == "cancelled"


def test_opening_a_failed_run_shows_the_failing_step_and_its_error(page, api, shot):
    # given a workflow whose second step fails at run time (int() of a word)
    g = graph(
        transform("clean", "Clean input", {"text": "workflow.input.message.trim()"}),
        transform("parse", "Parse amount", {"amount": "int(nodes.clean.output.text)"}),
    )
    wf = api.workflow("Invoice parser", g, publish="parses amounts")
    ok = api.run(wf, "42", wait=20)
    bad = api.run(wf, "forty-two", wait=20)
    assert ok["status"] == "succeeded", ok
    assert bad["status"] == "failed", bad

    # when the user filters the workspace's runs by "Failed" and opens the run
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Runs").click()
    page.get_by_label("Status").select_option("failed")
    expect(page.locator(f'tr[data-run-id="{ok["id"]}"]')).to_have_count(0)
    row = page.locator(f'tr[data-run-id="{bad["id"]}"]')
    expect(row).to_contain_text("Failed")
    shot(page, "23-runs-list-filtered-failed")
    row.click()

    # then the page names the failing step, opens it, and shows its error, input and the trace
    expect(page.get_by_role("alert", name="Run error")).to_contain_text("Parse amount")
    panel = page.get_by_role("complementary", name="Step details")
    expect(panel.locator(".step-title")).to_have_text("Parse amount")
    expect(panel.get_by_role("alert", name="Step error")).to_be_visible()
    expect(panel.get_by_label("Input", exact=True)).to_contain_text("forty-two")
    expect(page.get_by_label("Run trace").locator(".card.run-failed")).to_have_count(1)
    expect(page.get_by_label("Run trace").locator(".card.run-succeeded")).to_have_count(2)
    failed_bar = page.get_by_role("list", name="Step timeline").locator(".tl-failed")
    expect(failed_bar).to_have_count(1)
    shot(page, "24-run-failed-detail")

    # and clicking an earlier step on the timeline shows that step's output
    page.get_by_role("list", name="Step timeline").get_by_role("listitem", name=re.compile("^Clean input")).click()
    expect(panel.locator(".step-title")).to_have_text("Clean input")
    expect(panel.get_by_label("Output", exact=True)).to_contain_text('"text": "forty-two"')

    # and a rerun starts a new run of the same version with the same input
    page.get_by_role("button", name="Rerun", exact=True).click()
    page.wait_for_url(re.compile(r"/runs/(?!" + bad["id"] + ")"))
    expect(page.get_by_text("rerun", exact=True)).to_be_visible()
    expect(page.locator("h1 .chip")).to_have_text("Failed", timeout=10_000)

    # and once the draft is fixed, "Rerun from this step" runs from the failing step and keeps the steps before it
    fixed = graph(
        transform("clean", "Clean input", {"text": "workflow.input.message.trim()"}),
        transform("parse", "Parse amount", {"amount": "size(nodes.clean.output.text)"}),
    )
    api.save_draft(wf, fixed)
    rerun_url = page.url
    panel.get_by_role("button", name="Rerun from this step").click()
    page.wait_for_url(lambda url: url != rerun_url)
    expect(page.locator("h1 .chip")).to_have_text("Succeeded", timeout=10_000)
    expect(page.get_by_text("rerun from parse")).to_be_visible()
    expect(page.get_by_label("Run output", exact=True)).to_contain_text('"amount": 9')
    shot(page, "27-run-rerun-from-step")


def test_usage_and_audit_pages_summarise_the_workspace(page, api, shot):
    # given a few runs of a published workflow
    g = graph(transform("t", "Tidy", {"x": "workflow.input.message"}))
    wf = api.workflow("Usage sample", g, publish="first")
    for message in ("a", "b"):
        api.run(wf, message, wait=20)

    # when the user opens Usage
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Usage").click()

    # then runs are counted per day and status, and the workflow is listed with its runs
    expect(page.get_by_role("figure", name="Runs by status")).to_be_visible()
    per_workflow = page.get_by_role("table", name="Usage per workflow")
    expect(per_workflow.get_by_role("row").filter(has_text="Usage sample")).to_contain_text("2")
    shot(page, "25-usage")

    # and the audit log says who created and published it
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    log = page.get_by_role("table", name="Audit log")
    expect(log.get_by_role("row").filter(has_text="workflow.published").first).to_contain_text("demo@trellis.local")
    expect(log.get_by_role("row").filter(has_text="workflow.created").first).to_contain_text("Usage sample")
    shot(page, "26-audit-log")


def test_a_runs_callback_shows_where_it_stands_without_the_urls_token(page, api, shot):
    # given a run started through the API with a callback URL whose host does not resolve
    wf = api.workflow("Calls back", graph(transform("t", "Tidy", {"x": "workflow.input.message"})), publish="first")
    body = {"input": {"message": "hi"}, "callback_url": "http://receiver.invalid/hooks/trellis?token=s3cret-token"}
    run = api.call("POST", f"workflows/{wf}/runs", body)
    api.wait_for(run["id"], {"succeeded"})

    # when its page is opened
    page.goto(f"/runs/{run['id']}")

    # then the Callback section says the first attempt failed, when the next one is, and why,
    # showing the URL without its query
    box = page.get_by_role("region", name="Callback")
    expect(box).to_contain_text(re.compile(r"Attempt 1 of \d+ failed; next attempt at"), timeout=10_000)
    expect(box).to_contain_text("http://receiver.invalid/hooks/trellis")
    expect(box).not_to_contain_text("s3cret-token")
    shot(page, "28-run-callback-retrying")
