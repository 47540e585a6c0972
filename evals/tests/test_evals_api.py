"""Evals over the API: items run as eval runs through the normal machinery, graded, summarised, compared."""

import pytest

from builder.models import WorkflowVersion
from builder.services.graph import graph_checksum
from evals.models import Eval, EvalResult
from evals.services.evals import eval_wait
from evals.tests.conftest import agent_graph, shout_graph
from runs.models import Run

pytestmark = pytest.mark.django_db(transaction=True)

EXACT = {
    "type": "string_check",
    "name": "exact",
    "input": "{{ output.text }}",
    "reference": "{{ expected }}",
    "operation": "eq",
}
ITEMS = [
    {"input": {"message": "hi"}, "expected": "HI"},
    {"input": {"message": "yo"}, "expected": "YO"},
    {"input": {"message": "ok"}, "expected": "nope"},
]


def make_dataset(api, wf, items=ITEMS, graders=(EXACT,)):
    did = api.post(
        f"/api/v1/workflows/{wf.pk}/datasets", {"name": "golden", "graders": list(graders)}, format="json"
    ).json()["id"]
    assert (
        api.post(f"/api/v1/workflows/{wf.pk}/datasets/{did}/items", {"items": items}, format="json").status_code == 201
    )
    return did


def start_eval(api, wf, did, version="draft", **extra):
    res = api.post(f"/api/v1/workflows/{wf.pk}/evals", {"dataset": did, "version": version, **extra}, format="json")
    assert res.status_code == 201, res.json()
    assert res.json()["status"] == "running"
    eval_wait(eval_id=res.json()["id"], timeout_s=30)
    return api.get(f"/api/v1/workflows/{wf.pk}/evals/{res.json()['id']}").json()


def test_an_eval_runs_every_item_grades_it_and_summarises(make_flow, client_for, editor, workspace, settings):
    settings.EVAL_CONCURRENCY = 2
    wf = make_flow()
    api = client_for(editor, workspace)
    did = make_dataset(api, wf)

    body = start_eval(api, wf, did)

    assert body["status"] == "succeeded"
    assert body["is_draft"] is True and body["checksum"] == graph_checksum(wf.draft_graph)
    summary = body["summary"]
    assert {
        k: summary[k] for k in ("items", "passed", "failed", "errored", "pass_rate", "mean_scores", "cost_usd")
    } == {
        "items": 3,
        "passed": 2,
        "failed": 1,
        "errored": 0,
        "pass_rate": 0.6667,
        "mean_scores": {"exact": 0.6667},
        "cost_usd": 0.0,
    }
    assert isinstance(summary["p50_ms"], int)
    assert [(i["output"], i["passed"], i["scores"]) for i in body["items"]] == [
        ({"text": "HI"}, True, {"exact": {"score": 1.0, "passed": True}}),
        ({"text": "YO"}, True, {"exact": {"score": 1.0, "passed": True}}),
        ({"text": "OK"}, False, {"exact": {"score": 0.0, "passed": False}}),
    ]
    runs = Run.objects.filter(pk__in=[i["run_id"] for i in body["items"]])
    assert sorted(r.trigger["type"] for r in runs) == ["eval", "eval", "eval"]
    assert {r.trigger["eval_id"] for r in runs} == {body["id"]}
    assert all(i["item_revision"] == 1 for i in body["items"])


def test_eval_runs_stay_out_of_the_run_list_unless_asked_for(make_flow, client_for, editor, workspace):
    wf = make_flow()
    api = client_for(editor, workspace)
    start_eval(api, wf, make_dataset(api, wf))
    assert api.get(f"/api/v1/runs?workflow={wf.pk}").json()["results"] == []
    assert len(api.get(f"/api/v1/runs?workflow={wf.pk}&trigger=eval").json()["results"]) == 3


def test_no_more_runs_than_the_concurrency_limit_are_in_flight(make_flow, client_for, editor, workspace, settings):
    settings.EVAL_CONCURRENCY = 2
    slow = shout_graph()
    slow["nodes"][1] = {
        "id": "shout",
        "type": "test_sleep",
        "name": "Shout",
        "position": {"x": 0, "y": 0},
        "config": {"seconds": 0.3},
    }
    wf = make_flow(slow, publish=True)  # a published version is not re-validated: the test-only node may run
    api = client_for(editor, workspace)
    did = make_dataset(api, wf, items=[{"input": {"message": str(i)}, "expected": str(i)} for i in range(6)])
    res = api.post(f"/api/v1/workflows/{wf.pk}/evals", {"dataset": did, "version": 1}, format="json")
    eval_id = res.json()["id"]
    peak = 0
    while Eval.objects.get(pk=eval_id).status == "running":
        peak = max(peak, EvalResult.objects.filter(eval_id=eval_id, status__in=["running", "grading"]).count())
    assert 1 <= peak <= 2
    assert Eval.objects.get(pk=eval_id).summary["items"] == 6


def test_an_eval_of_the_draft_uses_the_draft_as_it_was_when_the_eval_started(make_flow, client_for, editor, workspace):
    wf = make_flow()
    api = client_for(editor, workspace)
    did = make_dataset(api, wf)
    res = api.post(f"/api/v1/workflows/{wf.pk}/evals", {"dataset": did, "version": "draft"}, format="json")
    wf.draft_graph = shout_graph("workflow.input.message")
    wf.save()
    eval_wait(eval_id=res.json()["id"], timeout_s=30)
    assert Eval.objects.get(pk=res.json()["id"]).summary["passed"] == 2


def test_two_evals_compare_item_by_item(make_flow, client_for, editor, workspace):
    wf = make_flow(publish=True)
    api = client_for(editor, workspace)
    did = make_dataset(api, wf)
    wf.draft_graph = shout_graph("workflow.input.message == 'ok' ? 'nope' : workflow.input.message")
    wf.save()

    v1 = start_eval(api, wf, did, version=1)
    draft = start_eval(api, wf, did)
    res = api.get(f"/api/v1/workflows/{wf.pk}/evals/{v1['id']}/compare/{draft['id']}")

    body = res.json()
    assert res.status_code == 200
    assert (body["regressions"], body["improvements"]) == (2, 1)
    assert body["delta"]["pass_rate"] == -0.3334  # 0.3333 - 0.6667
    assert [(row["input"]["message"], row["change"]) for row in body["items"]] == [
        ("hi", "regression"),
        ("yo", "regression"),
        ("ok", "improvement"),
    ]
    assert body["items"][2]["a"]["output"] == {"text": "OK"} and body["items"][2]["b"]["output"] == {"text": "nope"}
    assert body["a"]["version"] == 1 and body["b"]["is_draft"] is True


def test_a_failed_run_fails_its_item_without_grading(make_flow, client_for, editor, workspace):
    wf = make_flow(shout_graph("workflow.input.nothing.upperAscii()"))
    api = client_for(editor, workspace)
    body = start_eval(api, wf, make_dataset(api, wf, items=ITEMS[:1]))
    item = body["items"][0]
    assert (item["run_status"], item["passed"], item["scores"]) == ("failed", False, {})
    assert body["summary"]["errored"] == 1


def test_an_agent_eval_with_a_judge_counts_the_model_cost(make_flow, client_for, editor, workspace, env_model):
    wf = make_flow(agent_graph())
    api = client_for(editor, workspace)
    judge = {
        "type": "score_model",
        "name": "judge",
        "model": "gpt-4.1-mini",
        "pass_threshold": 0.9,
        "input": [{"role": "user", "content": "Output: {{ output.text }}\nExpected: {{ expected }}"}],
    }
    did = make_dataset(
        api,
        wf,
        items=[
            {"input": {"message": "hello"}, "expected": "You said: hello"},
            {"input": {"message": "bye"}, "expected": "Goodbye"},
        ],
        graders=[judge],
    )
    body = start_eval(api, wf, did)
    assert [(i["scores"]["judge"]["score"], i["passed"]) for i in body["items"]] == [(1.0, True), (0.0, False)]
    assert body["summary"]["cost_usd"] == round(sum(i["cost_usd"] for i in body["items"]), 6)
    assert body["summary"]["cost_usd"] > 0
    judged = round(sum(i["scores"]["judge"]["cost_usd"] for i in body["items"]), 6)
    assert body["summary"]["grading_cost_usd"] == judged and judged > 0
    # eval runs are left out of the run list but their cost counts in the workspace's usage
    usage = api.get("/api/v1/usage?days=1").json()
    assert [(w["label"], w["runs"], w["cost_usd"]) for w in usage["per_workflow"]] == [
        ("Flow", 2, body["summary"]["cost_usd"])
    ]


def test_viewers_read_evals_but_cannot_start_one_and_other_workspaces_get_404(
    make_flow, client_for, editor, viewer, workspace, make_user, make_workspace
):
    wf = make_flow()
    api = client_for(editor, workspace)
    did = make_dataset(api, wf)
    body = start_eval(api, wf, did)
    watcher = client_for(viewer, workspace)
    stranger = make_user()
    outsider = client_for(stranger, make_workspace(owner=stranger))

    denied = watcher.post(f"/api/v1/workflows/{wf.pk}/evals", {"dataset": did}, format="json")

    assert denied.status_code == 403
    assert Eval.objects.count() == 1
    assert watcher.get(f"/api/v1/workflows/{wf.pk}/evals/{body['id']}").status_code == 200
    assert [e["id"] for e in watcher.get(f"/api/v1/workflows/{wf.pk}/evals").json()] == [body["id"]]
    assert outsider.get(f"/api/v1/workflows/{wf.pk}/evals/{body['id']}").status_code == 404
    assert outsider.get(f"/api/v1/workflows/{wf.pk}/evals/{body['id']}/compare/{body['id']}").status_code == 404
    assert outsider.post(f"/api/v1/workflows/{wf.pk}/evals", {"dataset": did}, format="json").status_code == 404


def test_the_gate_leaves_a_draft_with_errors_to_the_publish_validation(make_flow, client_for, editor, workspace):
    wf = make_flow()
    api = client_for(editor, workspace)
    did = make_dataset(api, wf)
    api.put(f"/api/v1/workflows/{wf.pk}/publish-gate", {"dataset": did, "min_pass_rate": 0.5}, format="json")
    wf.draft_graph = shout_graph("nodes.nowhere.output")
    wf.save()
    res = api.post(f"/api/v1/workflows/{wf.pk}/publish", {}, format="json")
    assert res.status_code == 422 and res.json()["error"]["code"] == "validation_failed"
    assert Eval.objects.count() == 0


def test_an_eval_without_graders_or_items_is_refused_and_nothing_is_stored(make_flow, client_for, editor, workspace):
    wf = make_flow()
    api = client_for(editor, workspace)
    no_graders = make_dataset(api, wf, graders=())
    res = api.post(f"/api/v1/workflows/{wf.pk}/evals", {"dataset": no_graders}, format="json")
    assert res.status_code == 400 and res.json()["error"]["details"] == [{"field": "graders"}]
    empty = api.post(
        f"/api/v1/workflows/{wf.pk}/datasets", {"name": "empty", "graders": [EXACT]}, format="json"
    ).json()["id"]
    res = api.post(f"/api/v1/workflows/{wf.pk}/evals", {"dataset": empty}, format="json")
    assert res.status_code == 422 and res.json()["error"]["code"] == "empty_dataset"
    assert Eval.objects.count() == 0 and EvalResult.objects.count() == 0
    assert WorkflowVersion.objects.count() == 0


def test_an_eval_is_cancelled_its_finished_items_keep_their_scores_and_the_rest_never_run(
    make_flow, client_for, editor, viewer, workspace, settings, make_user, make_workspace
):
    from runs.services import run_wait

    # given: one item at a time, each run taking a second and a half; the first item is done, the second running
    settings.EVAL_CONCURRENCY = 1
    slow = shout_graph()
    slow["nodes"][1] = {"id": "shout", "type": "test_sleep", "name": "Nap", "position": {"x": 0, "y": 0}}
    slow["nodes"][1]["config"] = {"seconds": 1.5}
    slow["nodes"][2]["config"] = {"output": {"text": "workflow.input.message.upperAscii()"}}
    wf = make_flow(slow, publish=True)  # a published version is not re-validated: the test-only node may run
    api = client_for(editor, workspace)
    items = [{"input": {"message": m}, "expected": m.upper()} for m in ("a", "b", "c", "d")]
    did = make_dataset(api, wf, items=items)
    eval_id = api.post(f"/api/v1/workflows/{wf.pk}/evals", {"dataset": did, "version": 1}, format="json").json()["id"]
    url = f"/api/v1/workflows/{wf.pk}/evals/{eval_id}"
    second = None
    for _ in range(400):
        second = EvalResult.objects.filter(eval_id=eval_id, position=1, status="running").first()
        if second is not None:
            break
        eval_wait(eval_id=eval_id, timeout_s=0.05)
    assert second is not None
    stranger = make_user()
    outsider = client_for(stranger, make_workspace(owner=stranger))

    # when: a viewer and another workspace try, then the editor cancels
    assert client_for(viewer, workspace).post(url + "/cancel").status_code == 403
    assert outsider.post(url + "/cancel").status_code == 404
    assert Eval.objects.get(pk=eval_id).status == "running"
    res = api.post(url + "/cancel")

    # then
    assert res.status_code == 200, res.json()
    body = res.json()
    assert body["status"] == "cancelled"
    first, cut, *never = body["items"]
    assert (first["status"], first["passed"], first["scores"]["exact"]["score"]) == ("done", True, 1.0)
    assert first["run_status"] == "succeeded"
    assert (cut["status"], cut["passed"], cut["run_status"]) == ("done", False, "cancelled")
    assert [(i["run_status"], i["run_id"], i["error"]["code"]) for i in never] == [("cancelled", None, "cancelled")] * 2
    assert run_wait(run_id=second.run_id, timeout_s=10).status == "cancelled"
    summary = body["summary"]
    assert (summary["items"], summary["passed"], summary["cancelled"], summary["errored"]) == (4, 1, 3, 0)
    assert summary["mean_scores"] == {"exact": 1.0}
    # nothing starts afterwards, and a second cancel is refused
    eval_wait(eval_id=eval_id, timeout_s=0.5)
    assert Run.objects.filter(trigger__eval_id=eval_id).count() == 2
    assert api.post(url + "/cancel").status_code == 409
    assert api.get(url).json()["summary"] == summary
