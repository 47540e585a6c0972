"""Every grader type: known inputs give known scores; malformed graders are refused before anything is
stored."""

import pytest

from evals.graders import Sample, grade, grader_check
from evals.models import Dataset
from runs.testing.model_server.conversation import tokens
from trellis.errors import ApplicationError

SAMPLE = Sample(input={"message": "hi"}, output="the cat sat on a mat", expected="the cat sat on the mat")


@pytest.mark.parametrize(
    ("operation", "reference", "score"),
    [
        ("eq", "{{ expected }}", 0.0),
        ("ne", "{{ expected }}", 1.0),
        ("like", "sat on", 1.0),
        ("ilike", "THE CAT", 1.0),
        ("like", "THE CAT", 0.0),
        ("eq", "the cat sat on a mat", 1.0),
    ],
)
def test_string_check_compares_the_rendered_input_and_reference(operation, reference, score):
    grader = {
        "type": "string_check",
        "name": "s",
        "input": "{{ output }}",
        "reference": reference,
        "operation": operation,
    }
    assert grade(grader, SAMPLE) == {"score": score, "passed": score == 1.0}


@pytest.mark.parametrize(
    ("metric", "score"),
    [("fuzzy_match", 0.904762), ("bleu", 0.537285), ("rouge_1", 0.833333), ("rouge_2", 0.6), ("rouge_l", 0.833333)],
)
def test_text_similarity_scores_with_the_libraries_metrics(metric, score):
    grader = {"type": "text_similarity", "name": "t", "evaluation_metric": metric, "pass_threshold": 0.8}
    assert grade(grader, SAMPLE) == {"score": score, "passed": score >= 0.8}


def test_json_schema_passes_valid_json_text_and_fails_the_rest():
    grader = {
        "type": "json_schema",
        "name": "j",
        "schema": {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
    }
    assert grade(grader, Sample(input={}, output={"a": 1}, expected=None)) == {"score": 1.0, "passed": True}
    assert grade(grader, Sample(input={}, output='{"a": 2}', expected=None)) == {"score": 1.0, "passed": True}
    assert grade(grader, Sample(input={}, output={"a": "x"}, expected=None)) == {
        "score": 0.0,
        "passed": False,
        "reason": "'x' is not of type 'integer'",
    }
    assert grade(grader, Sample(input={}, output="nope", expected=None)) == {
        "score": 0.0,
        "passed": False,
        "reason": "not JSON",
    }


def test_cel_sees_input_output_and_expected():
    passing = {"type": "cel", "name": "c", "expression": "output.size() < expected.size() && input.message == 'hi'"}
    numeric = {
        "type": "cel",
        "name": "n",
        "expression": "double(output.size()) / double(expected.size())",
        "pass_threshold": 0.9,
    }
    assert grade(passing, SAMPLE) == {"score": 1.0, "passed": True}
    assert grade(numeric, SAMPLE) == {"score": 0.909091, "passed": True}
    broken = grade({"type": "cel", "name": "c", "expression": "output.nope"}, SAMPLE)
    assert broken["score"] == 0.0 and broken["passed"] is False and broken["error"].startswith("The expression failed")


JUDGE = [
    {"role": "system", "content": "Grade the answer."},
    {"role": "user", "content": "Output: {{ output }}\nExpected: {{ expected }}"},
]


def test_score_model_asks_the_judge_through_the_provider(env_model):
    grader = {"type": "score_model", "name": "judge", "model": "gpt-4.1-mini", "input": JUDGE, "range": [0, 1]}
    dog = Sample(input={}, output="a dog sat on a mat", expected="the cat sat on the mat")
    # 3 of the 5 distinct expected words; the judge's call is priced like any gpt-4.1-mini call
    prompt = tokens("Grade the answer.\nOutput: a dog sat on a mat\nExpected: the cat sat on the mat")
    spent = round((prompt * 0.40 + tokens('{"score": 0.6}') * 1.60) / 1_000_000, 8)
    assert grade(grader, dog) == {"score": 0.6, "passed": True, "cost_usd": spent}
    same = Sample(input={}, output="The cat  sat on the mat", expected="the cat sat on the mat")
    assert grade(grader, same)["score"] == 1.0
    sent = env_model.requests[-1]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["body"]["messages"][1]["content"] == "Output: The cat  sat on the mat\nExpected: the cat sat on the mat"
    assert sent["body"]["response_format"]["json_schema"]["name"] == "trellis_grader"


def test_a_judge_model_without_a_known_price_still_grades_and_claims_no_cost(env_model):
    grader = {"type": "score_model", "name": "judge", "model": "my-own-judge", "input": JUDGE, "range": [0, 1]}
    dog = Sample(input={}, output="a dog sat on a mat", expected="the cat sat on the mat")

    assert grade(grader, dog) == {"score": 0.6, "passed": True}
    assert env_model.requests[-1]["body"]["model"] == "my-own-judge"


def test_a_judge_that_returns_no_score_fails_the_sample_with_a_clear_error(env_model):
    rubric = [{"role": "user", "content": "[[no-score]] Output: {{ output }}"}]
    grader = {"type": "score_model", "name": "judge", "model": "gpt-4.1-mini", "input": rubric}
    result = grade(grader, SAMPLE)
    assert result.pop("cost_usd") > 0  # the call was made and paid for, even without a score
    assert result == {"score": 0.0, "passed": False, "error": "The judge model returned no score."}


def test_label_model_passes_on_a_passing_label(env_model):
    grader = {
        "type": "label_model",
        "name": "tone",
        "model": "gpt-4.1-mini",
        "input": [{"role": "user", "content": "Classify the tone of: {{ output }}"}],
        "labels": ["polite", "rude"],
        "passing_labels": ["polite"],
    }
    polite = grade(grader, Sample(input={}, output="a polite reply", expected=None))
    rude = grade(grader, Sample(input={}, output="a rude reply", expected=None))
    assert (polite["score"], polite["passed"], polite["label"]) == (1.0, True, "polite")
    assert (rude["score"], rude["passed"], rude["label"]) == (0.0, False, "rude")


def test_multi_is_the_weighted_mean_of_its_graders():
    grader = {
        "type": "multi",
        "name": "m",
        "pass_threshold": 0.7,
        "weights": {"exact": 1, "fuzzy": 3},
        "graders": {
            "exact": {"type": "string_check", "operation": "eq"},
            "fuzzy": {"type": "text_similarity", "evaluation_metric": "rouge_2"},
        },
    }
    assert grade(grader, SAMPLE) == {"score": 0.45, "passed": False, "parts": {"exact": 0.0, "fuzzy": 0.6}}


@pytest.mark.parametrize(
    ("grader", "field", "message"),
    [
        (
            {"type": "cel", "name": "c", "expression": "output =="},
            "graders[0].expression",
            "The expression does not compile: Syntax error at position 9: the expression ends too early",
        ),
        (
            {"type": "regex", "name": "r"},
            "graders[0].type",
            "type must be one of string_check, text_similarity, json_schema, cel, score_model, label_model, multi.",
        ),
        (
            {"type": "string_check", "name": "s", "operation": "glob"},
            "graders[0].operation",
            "operation must be one of eq, ne, like, ilike.",
        ),
        (
            {
                "type": "label_model",
                "name": "l",
                "model": "m",
                "input": [{"role": "user", "content": "x"}],
                "labels": ["a"],
                "passing_labels": ["b"],
            },
            "graders[0].passing_labels",
            "passing_labels must be a non-empty subset of labels.",
        ),
    ],
)
def test_malformed_graders_are_refused_naming_the_field(grader, field, message):
    with pytest.raises(ApplicationError) as caught:
        grader_check(grader)
    assert caught.value.code == "invalid_grader"
    assert caught.value.details == [{"field": field, "message": message}]


@pytest.mark.django_db
def test_a_dataset_with_a_cel_grader_that_does_not_compile_is_refused_and_not_stored(
    make_flow, client_for, editor, workspace
):
    wf = make_flow()
    res = client_for(editor, workspace).post(
        f"/api/v1/workflows/{wf.pk}/datasets",
        {"name": "golden", "graders": [{"type": "cel", "name": "same", "expression": "output == )"}]},
        format="json",
    )
    assert res.status_code == 400
    assert res.json()["error"]["code"] == "invalid_grader"
    assert res.json()["error"]["details"][0]["field"] == "graders[0].expression"
    assert Dataset.objects.count() == 0


@pytest.mark.django_db
def test_a_grader_is_checked_without_being_saved_and_a_cel_error_says_why(
    make_flow, client_for, viewer, workspace, make_user, make_workspace
):
    wf = make_flow()
    url = f"/api/v1/workflows/{wf.pk}/graders/check"
    api = client_for(viewer, workspace)  # checking changes nothing: any member may
    good = {"type": "cel", "name": "same", "expression": "output == expected"}

    ok = api.post(url, {"grader": good}, format="json")
    bad = api.post(url, {"grader": {**good, "expression": "output == )"}}, format="json")

    assert ok.status_code == 200
    assert ok.json() == {"valid": True, "grader": good}
    assert bad.status_code == 400
    error = bad.json()["error"]
    assert error["code"] == "invalid_grader"
    assert error["message"].startswith("The expression does not compile: ")
    assert error["details"] == [{"field": "grader.expression", "message": error["message"]}]
    stranger = make_user()
    outsider = client_for(stranger, make_workspace(owner=stranger))
    assert outsider.post(url, {"grader": good}, format="json").status_code == 404
    assert Dataset.objects.count() == 0
