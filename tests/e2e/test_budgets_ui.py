"""Issue 18, budgets in the browser: set a budget in Settings, watch a workflow hit one in the run view, and see
the banner and the forecast on the usage page. Each test works in a workspace of its own, so that its budgets
never stop another test's runs."""

import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.screens import Api, graph

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.fixtures_screens"]


def agent(node_id: str = "reply") -> dict:
    return {
        "id": node_id,
        "type": "agent",
        "name": "Reply",
        "config": {
            "model": "gpt-4.1-mini",
            "instructions": "Answer briefly: {{ workflow.input.message }}",
            "max_output_tokens": 40,
        },
    }


@pytest.fixture
def own(page, api):
    """A new workspace of the demo owner, selected in the browser; returns an API client acting in it."""
    ws = api.call("POST", "workspaces", {"name": f"Budgets {uuid.uuid4().hex[:6]}"})
    page.evaluate("slug => localStorage.setItem('trellis.workspace', slug)", ws["slug"])
    return Api(page, workspace=ws["slug"])


def test_an_admin_sets_the_workspace_budget_in_settings(page, own, shot):
    page.goto("/settings/budgets")
    form = page.get_by_role("form", name="Workspace budget")
    form.get_by_label("Window").select_option("day")
    form.get_by_label("Hard limit (USD)").fill("12.5")
    form.get_by_label("Alert at (%)").fill("60")
    form.get_by_role("button", name="Set budget").click()

    expect(page.get_by_role("status").filter(has_text="Budget saved.")).to_be_visible()
    meter = page.get_by_label("Budget Workspace", exact=True)
    expect(meter).to_contain_text("$0.00 of $12.50 today")
    expect(meter).to_contain_text("Forecast: $0.00")
    shot(page, "budgets-01-settings")
    saved = own.call("GET", "budgets")["workspace"]
    assert (saved["window"], saved["limit_usd"], saved["alert_at"]) == ("day", 12.5, 0.6)


def test_a_workflow_that_hits_its_budget_says_so_in_the_run_view(page, own, shot):
    # given a workflow whose budget is smaller than one model call
    wf = own.workflow("Budgeted reply", graph(agent()))
    own.call("PUT", f"workflows/{wf}/budget", {"window": "month", "limit_usd": 0.000001})

    # when it runs
    run = own.run(wf, "hello there", version="draft")
    done = own.wait_for(run["id"], {"failed", "succeeded"})
    assert done["error"]["code"] == "budget_exceeded"

    # then the run view says plainly that the budget stopped it before the model was called
    page.goto(f"/runs/{run['id']}")
    box = page.get_by_role("alert", name="Budget exceeded")
    expect(box.get_by_role("heading")).to_have_text("Budget exceeded: the model was not called")
    expect(box).to_contain_text("would cross the workflow's budget of $0.000001 per month")
    expect(box).to_contain_text("Nothing was sent to the model")
    expect(box.get_by_role("link", name="Settings → Budgets")).to_be_visible()
    shot(page, "budgets-02-run-budget-exceeded")


def test_the_usage_page_shows_the_alert_banner_and_the_forecast(page, own, shot):
    # given a workspace budget whose alert threshold one call crosses
    own.call("PUT", "budgets", {"window": "month", "limit_usd": 0.001, "alert_at": 0.01})
    wf = own.workflow("Chatty", graph(agent()))
    run = own.run(wf, "tell me about budgets", version="draft")
    assert own.wait_for(run["id"], {"succeeded", "failed"})["status"] == "succeeded"

    # when the usage page opens
    page.goto("/usage")

    # then the banner names the budget and how far it is, and the meter shows spend and the forecast
    banner = page.get_by_role("status", name="Budget alert")
    expect(banner).to_contain_text("Budget alert")
    expect(banner).to_contain_text("Workspace budget at")
    expect(banner).to_contain_text("alert at 1%")
    meter = page.get_by_label("Budget Workspace", exact=True)
    expect(meter).to_contain_text("of $0.001 this month")
    expect(meter).to_contain_text("Forecast:")
    expect(page.get_by_role("link", name="Export CSV")).to_have_attribute(
        "href", f"/api/v1/usage/export.csv?days=30&workspace={own.workspace}"
    )
    shot(page, "budgets-03-usage-banner-forecast")
