"""Issue 6, versions: history, a visual diff of two versions, restoring one into the draft, rolling back."""

import pytest
from playwright.sync_api import expect

from tests.e2e.screens import graph, transform

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.fixtures_screens"]


def test_comparing_two_versions_marks_the_changes_and_restoring_one_fills_the_draft(page, api, shot):
    # given a workflow published twice: v2 changed "Clean", replaced "Score" by "Tag"
    v1 = graph(
        transform("clean", "Clean", {"text": "workflow.input.message.trim()"}),
        transform("score", "Score", {"score": "size(nodes.clean.output.text)"}),
    )
    v2 = graph(
        transform("clean", "Clean", {"text": "workflow.input.message.trim().lowerAscii()"}),
        transform("tag", "Tag", {"tag": "'support'"}),
    )
    wf = api.workflow("Ticket tagger", v1, publish="Score tickets")
    api.save_draft(wf, v2)
    api.call("POST", f"workflows/{wf}/publish", {"note": "Tag instead of score"})

    # when the user opens the history
    page.goto(f"/workflows/{wf}/versions")
    versions = page.get_by_role("list", name="Versions")
    expect(versions.get_by_role("listitem", name="Version 2")).to_contain_text("published")
    expect(versions.get_by_role("listitem", name="Version 2")).to_contain_text("Tag instead of score")
    expect(versions.get_by_role("listitem", name="Version 1")).to_contain_text("Score tickets")
    expect(versions.get_by_role("listitem", name="Version 1")).to_contain_text("demo@trellis.local")
    shot(page, "30-versions-history")

    # and compares v1 with v2
    page.get_by_label("From version").select_option("1")
    page.get_by_label("To version").select_option("2")
    diff = page.get_by_label("Version diff")
    expect(diff.get_by_role("heading", level=2)).to_contain_text("1 added, 1 removed, 2 changed")
    canvas = diff.get_by_label("Diff canvas")
    expect(canvas.locator(".react-flow__node.diff-added")).to_have_count(1)
    expect(canvas.locator(".react-flow__node.diff-added")).to_contain_text("Tag")
    expect(canvas.locator(".react-flow__node.diff-removed")).to_contain_text("Score")
    expect(canvas.locator(".react-flow__node.diff-changed")).to_have_count(2)
    expect(canvas.locator(".react-flow__node.diff-changed").first).to_contain_text("Clean")
    changes = diff.get_by_label("Changes")
    expect(changes).to_contain_text("Output › Text")
    expect(changes).to_contain_text("workflow.input.message.trim().lowerAscii()")
    shot(page, "31-versions-diff")

    # and restores v1 into the draft
    versions.get_by_role("listitem", name="Version 1").get_by_role("button", name="Restore into draft").click()
    page.get_by_role("dialog").get_by_role("button", name="Restore").click()
    expect(page.get_by_role("status")).to_contain_text("Version 1 was copied into the draft")
    draft = api.call("GET", f"workflows/{wf}/draft")
    assert [n["id"] for n in draft["graph"]["nodes"]] == ["start", "clean", "score", "done"]
    assert draft["graph"]["nodes"][1]["config"] == {"output": {"text": "workflow.input.message.trim()"}}

    # then the draft equals v1 (the diff of v1 with the draft is empty), and v2 is still the published one
    versions.get_by_role("listitem", name="Version 1").get_by_role("button", name="Diff with draft").click()
    expect(page.get_by_label("Version diff").get_by_role("heading", level=2)).to_contain_text("No differences")
    assert api.call("GET", f"workflows/{wf}")["published_version"] == 2
    shot(page, "32-versions-restored")

    # and making v1 the published version again is one confirmation away
    versions.get_by_role("listitem", name="Version 1").get_by_role("button", name="Make published").click()
    page.get_by_role("dialog").get_by_role("button", name="Make published").click()
    expect(versions.get_by_role("listitem", name="Version 1")).to_contain_text("published")
    expect(
        versions.get_by_role("listitem", name="Version 2").get_by_role("button", name="Make published")
    ).to_be_visible()
    assert api.call("GET", f"workflows/{wf}")["published_version"] == 1
