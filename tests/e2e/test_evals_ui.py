"""The Evals tab's graders editor (a form per grader type, a compile check for CEL, raw JSON as a fallback)
and cancelling an eval in progress from the eval list."""

import pytest
from playwright.sync_api import expect

from tests.e2e.screens import approval, graph, transform

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.fixtures_screens"]

EXACT = {
    "type": "string_check",
    "name": "exact",
    "input": "{{ output.text }}",
    "reference": "{{ expected }}",
    "operation": "eq",
}


def dataset(api, wf: str, items: list[dict]) -> str:
    did = api.call("POST", f"workflows/{wf}/datasets", {"name": "golden", "graders": [EXACT]})["id"]
    api.call("POST", f"workflows/{wf}/datasets/{did}/items", {"items": items})
    return did


def test_graders_are_edited_in_a_form_per_type_and_a_cel_error_shows_before_saving(page, api, shot):
    wf = api.workflow("Graders", graph(transform("shout", "Shout", {"text": "workflow.input.message"})), publish="v1")
    did = dataset(api, wf, [{"input": {"message": "hi"}, "expected": "hi"}])
    page.goto(f"/workflows/{wf}/evals")
    page.get_by_text("Graders (1)").click()
    editor = page.get_by_role("group", name="Graders")

    # the stored grader shows as a form
    exact = editor.get_by_role("group", name="Grader exact")
    expect(exact.get_by_label("Operation")).to_have_value("eq")
    expect(exact.get_by_label("Input template")).to_have_value("{{ output.text }}")

    # a CEL grader whose expression does not compile: the check says why, before anything is saved
    editor.get_by_label("New grader type").select_option("cel")
    editor.get_by_role("button", name="Add grader").click()
    cel = editor.get_by_role("group", name="Grader cel")
    cel.get_by_label("CEL expression").fill("output.text == )")
    cel.get_by_role("button", name="Check expression").click()
    expect(cel.get_by_role("alert")).to_contain_text("The expression does not compile")
    shot(page, "70-graders-cel-error")
    cel.get_by_label("CEL expression").fill("output.text == expected")
    cel.get_by_role("button", name="Check expression").click()
    expect(cel.get_by_role("status")).to_have_text("The expression compiles.")

    # every other type gets a working form: its defaults save as they are
    for kind in ("text_similarity", "json_schema", "json_schema", "score_model", "label_model", "multi"):
        editor.get_by_label("New grader type").select_option(kind)
        editor.get_by_role("button", name="Add grader").click()
    judge = editor.get_by_role("group", name="Grader label_model")
    judge.get_by_label("Labels", exact=True).fill("right, wrong, unsure")
    judge.get_by_label("Passing labels").fill("right")
    editor.get_by_role("group", name="Grader multi").get_by_label("Weight of exact").fill("3")
    schema = editor.get_by_role("group", name="Grader json_schema_2").get_by_label("JSON Schema")
    schema.fill('{"type": "object", "required": ["text"]}')
    # removing a card keeps the next one's own text (it does not inherit the removed card's)
    editor.get_by_role("button", name="Remove grader json_schema", exact=True).click()
    expect(editor.get_by_role("group", name="Grader json_schema_2").get_by_label("JSON Schema")).to_have_value(
        '{"type": "object", "required": ["text"]}'
    )
    editor.get_by_role("button", name="Save graders").click()
    expect(editor.get_by_role("status").filter(has_text="Graders saved.")).to_be_visible()
    page.get_by_role("group", name="Grader score_model").scroll_into_view_if_needed()
    shot(page, "71-graders-form")

    stored = {d["id"]: d for d in api.call("GET", f"workflows/{wf}/datasets")}[did]["graders"]
    assert [g["type"] for g in stored] == [
        "string_check",
        "cel",
        "text_similarity",
        "json_schema",
        "score_model",
        "label_model",
        "multi",
    ]
    assert stored[1]["expression"] == "output.text == expected"
    assert (stored[3]["name"], stored[3]["schema"]) == ("json_schema_2", {"type": "object", "required": ["text"]})
    assert (stored[5]["labels"], stored[5]["passing_labels"]) == (["right", "wrong", "unsure"], ["right"])
    assert stored[6]["weights"] == {"exact": 3, "close": 1}

    # the raw JSON stays a tab away, and a server error is shown, not swallowed
    editor = page.get_by_role("group", name="Graders")
    editor.get_by_role("tab", name="JSON").click()
    raw = editor.get_by_label("Graders JSON")
    expect(raw).to_contain_text('"type": "multi"')
    raw.fill('[{"type": "cel", "name": "x", "expression": "1 +"}]')
    editor.get_by_role("button", name="Save graders").click()
    expect(editor.get_by_role("alert")).to_contain_text("does not compile")
    assert len({d["id"]: d for d in api.call("GET", f"workflows/{wf}/datasets")}[did]["graders"]) == 7


def test_an_eval_in_progress_is_cancelled_from_the_eval_list(page, api, shot):
    # given: every run of the eval waits for a human, so the eval stays in progress
    wf = api.workflow("Cancel me", graph(approval()), publish="v1")
    dataset(api, wf, [{"input": {"message": m}, "expected": m} for m in ("a", "b", "c")])
    page.goto(f"/workflows/{wf}/evals")
    page.get_by_label("Version to evaluate").select_option("1")
    page.get_by_role("button", name="Run eval").click()
    row = page.get_by_role("table", name="Eval runs").locator("tbody tr").first
    expect(row).to_contain_text("running")

    # when
    row.get_by_role("button", name="Cancel eval").click()

    # then
    expect(row).to_contain_text("cancelled")
    expect(row.get_by_role("button", name="Cancel eval")).to_have_count(0)
    row.get_by_role("button", name="Items").click()
    expect(page.get_by_role("status").filter(has_text="Cancelled:")).to_have_text(
        "Cancelled: 3 of 3 items did not finish; the finished ones keep their scores."
    )
    shot(page, "72-eval-cancelled")
    [ev] = api.call("GET", f"workflows/{wf}/evals")
    body = api.call("GET", f"workflows/{wf}/evals/{ev['id']}")
    assert body["status"] == "cancelled"
    runs = [api.call("GET", f"runs/{item['run_id']}") for item in body["items"] if item["run_id"]]
    assert runs and {r["status"] for r in runs} == {"cancelled"}
