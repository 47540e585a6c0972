"""Issue 16, the data flywheel in the browser: runs → feedback → a dataset built from the liked runs → evals
of v1 and of the draft, compared → the publish gate refusing a failing draft in the Publish dialog → a
fixed draft published through the gate. Steps 6-8 (export and fine-tuning) are in
test_evals_finetune.py, on a server of their own."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.screens import graph

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.fixtures_screens"]


def agent(instructions: str) -> dict:
    return {
        "id": "answer",
        "type": "agent",
        "name": "Answer",
        "config": {"model": "gpt-4.1-mini", "instructions": instructions},
    }


GOOD = graph(agent("{{ workflow.input.message }}"), end_output={"text": "nodes.answer.output"})
WORSE = graph(agent("Reply to: {{ workflow.input.message }}"), end_output={"text": "nodes.answer.output"})


def test_runs_become_a_dataset_evals_compare_and_the_gate_guards_publishing(page, api, shot):
    # 1. a published workflow run 20 times with varied inputs
    wf = api.workflow("Flywheel", GOOD, publish="v1")
    runs = [api.run(wf, f"question number {i}", wait=15) for i in range(20)]
    assert {r["status"] for r in runs} == {"succeeded"}

    # 2. feedback: a thumbs up in the run detail, more over the API (10 liked, 3 disliked)
    page.goto(f"/runs/{runs[0]['id']}")
    page.get_by_label("Feedback comment").first.fill("spot on")
    page.get_by_role("button", name="Thumbs up on the run's output").click()
    expect(page.get_by_label("Feedback so far").first).to_contain_text("1 good · 0 bad — “spot on”")
    for r in runs[1:10]:
        api.call("POST", f"runs/{r['id']}/feedback", {"score": 1})
    for r in runs[10:13]:
        api.call("POST", f"runs/{r['id']}/feedback", {"score": -1})
    shot(page, "60-run-feedback")
    page.goto(f"/workflows/{wf}/runs")
    page.get_by_label("Feedback").select_option("down")
    expect(page.locator("tr[data-run-id]")).to_have_count(3)

    # 3. a dataset from the liked runs, on the Evals tab
    page.goto(f"/workflows/{wf}/evals")
    page.get_by_label("New dataset name").fill("golden")
    page.get_by_role("button", name="Create dataset").click()
    page.get_by_role("button", name="Add runs rated 👍 good").click()
    expect(page.get_by_role("status").filter(has_text="Added 10 runs.")).to_be_visible()
    expect(page.get_by_role("table", name="Dataset items").locator("tbody tr")).to_have_count(10)

    # 4. eval v1, then the (worse) draft, and compare them
    api.save_draft(wf, WORSE)
    page.get_by_label("Version to evaluate").select_option("1")
    page.get_by_role("button", name="Run eval").click()
    evals = page.get_by_role("table", name="Eval runs")
    expect(evals.locator("tbody tr")).to_have_count(1)
    expect(evals.locator("tbody tr").first).to_contain_text("100%", timeout=30_000)
    page.get_by_label("Version to evaluate").select_option("draft")
    page.get_by_role("button", name="Run eval").click()
    expect(evals.locator("tbody tr")).to_have_count(2)
    expect(evals.locator("tbody tr").first).to_contain_text("0%", timeout=30_000)
    ids = [e["id"] for e in api.call("GET", f"workflows/{wf}/evals")]
    page.get_by_label("Baseline eval").select_option(ids[1])
    page.get_by_label("Candidate eval").select_option(ids[0])
    comparison = page.get_by_label("Comparison")
    expect(comparison.get_by_role("status")).to_contain_text("10 regressions, 0 improvements; pass rate -100%")
    expect(comparison.locator("tr.change-regression")).to_have_count(10)
    shot(page, "61-evals-compare")

    # 5. the gate on: publishing the failing draft is refused, with its failing items in the dialog
    gate = page.get_by_label("Publish gate")
    gate.get_by_label("Minimum pass rate (%)").fill("90")
    gate.get_by_role("button", name="Turn on gate").click()
    expect(gate.get_by_role("status")).to_contain_text("Publishing needs 90% on golden.")
    page.goto(f"/workflows/{wf}")
    page.get_by_role("button", name="Publish", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Publish gate")).to_contain_text("must pass 90% of dataset golden")
    dialog.get_by_role("button", name="Publish").click()
    expect(dialog.get_by_role("alert").first).to_contain_text(
        "The draft passes 0% of dataset 'golden'; the publish gate needs 90%.", timeout=60_000
    )
    expect(dialog.get_by_label("Failing items").locator("li")).to_have_count(10)
    shot(page, "62-publish-gate-refused")
    assert api.call("GET", f"workflows/{wf}")["published_version"] == 1
    dialog.get_by_role("button", name="Cancel").click()

    # 9. the draft fixed, it publishes through the gate
    api.save_draft(wf, GOOD)
    page.reload()
    page.get_by_role("button", name="Publish", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Version note").fill("passes the gate")
    dialog.get_by_role("button", name="Publish").click()
    expect(dialog.get_by_role("status")).to_contain_text(re.compile(r"Published version 2"), timeout=60_000)
    assert api.call("GET", f"workflows/{wf}")["published_version"] == 2
