"""The publish gate: publishing runs the gate's eval on the draft (or reuses a recent one of the same
draft) and answers 422 eval_gate_failed with the failing items below the pass rate."""

import pytest

from builder.models import WorkflowVersion
from evals.models import Eval, PublishGate
from evals.tests.conftest import shout_graph

pytestmark = pytest.mark.django_db(transaction=True)

EXACT = {"type": "string_check", "name": "exact", "input": "{{ output.text }}", "reference": "{{ expected }}"}


def gated(make_flow, api, *, min_pass_rate=1.0):
    wf = make_flow()
    did = api.post(f"/api/v1/workflows/{wf.pk}/datasets", {"name": "golden", "graders": [EXACT]}, format="json").json()[
        "id"
    ]
    items = [{"input": {"message": "hi"}, "expected": "HI"}, {"input": {"message": "yo"}, "expected": "YO"}]
    api.post(f"/api/v1/workflows/{wf.pk}/datasets/{did}/items", {"items": items}, format="json")
    res = api.put(
        f"/api/v1/workflows/{wf.pk}/publish-gate", {"dataset": did, "min_pass_rate": min_pass_rate}, format="json"
    )
    assert res.status_code == 200, res.json()
    assert res.json() == {"dataset": did, "dataset_name": "golden", "min_pass_rate": min_pass_rate}
    return wf, did


def test_a_draft_that_passes_the_gate_is_published_and_the_eval_is_reused_within_the_hour(
    make_flow, client_for, editor, workspace
):
    api = client_for(editor, workspace)
    wf, _ = gated(make_flow, api)

    first = api.post(f"/api/v1/workflows/{wf.pk}/publish", {"note": "v1"}, format="json")
    second = api.post(f"/api/v1/workflows/{wf.pk}/publish", {"note": "v2"}, format="json")

    assert (first.status_code, second.status_code) == (201, 201)
    assert Eval.objects.filter(purpose="gate").count() == 1
    assert Eval.objects.get().summary["pass_rate"] == 1.0


def test_a_failing_draft_is_refused_with_its_failing_items_and_nothing_is_published(
    make_flow, client_for, editor, workspace
):
    api = client_for(editor, workspace)
    wf, _ = gated(make_flow, api, min_pass_rate=0.75)
    wf.draft_graph = shout_graph("workflow.input.message == 'yo' ? 'nope' : workflow.input.message.upperAscii()")
    wf.save()

    res = api.post(f"/api/v1/workflows/{wf.pk}/publish", {}, format="json")

    error = res.json()["error"]
    assert res.status_code == 422
    assert error["code"] == "eval_gate_failed"
    assert error["message"] == "The draft passes 50% of dataset 'golden'; the publish gate needs 75%."
    assert [(d["input"], d["expected"], d["output"], d["position"]) for d in error["details"]] == [
        ({"message": "yo"}, "YO", {"text": "nope"}, 1)
    ]
    assert error["details"][0]["eval_id"] == str(Eval.objects.get().pk)
    assert WorkflowVersion.objects.filter(workflow=wf).count() == 0


def test_a_changed_draft_is_evaluated_again(make_flow, client_for, editor, workspace):
    api = client_for(editor, workspace)
    wf, _ = gated(make_flow, api)
    assert api.post(f"/api/v1/workflows/{wf.pk}/publish", {}, format="json").status_code == 201
    wf.draft_graph = shout_graph("workflow.input.message")
    wf.save()
    assert api.post(f"/api/v1/workflows/{wf.pk}/publish", {}, format="json").status_code == 422
    assert Eval.objects.count() == 2


def test_the_gate_is_removed_with_null_and_viewers_cannot_change_it(make_flow, client_for, editor, viewer, workspace):
    api = client_for(editor, workspace)
    wf, did = gated(make_flow, api)
    denied = client_for(viewer, workspace).put(f"/api/v1/workflows/{wf.pk}/publish-gate", None, format="json")
    assert denied.status_code == 403 and PublishGate.objects.count() == 1
    assert client_for(viewer, workspace).get(f"/api/v1/workflows/{wf.pk}/publish-gate").json()["dataset"] == did
    removed = api.put(f"/api/v1/workflows/{wf.pk}/publish-gate", None, format="json")
    assert removed.status_code == 200 and removed.json() is None
    assert PublishGate.objects.count() == 0


def test_a_gate_with_a_bad_rate_is_refused(make_flow, client_for, editor, workspace):
    api = client_for(editor, workspace)
    wf, did = gated(make_flow, api)
    res = api.put(f"/api/v1/workflows/{wf.pk}/publish-gate", {"dataset": did, "min_pass_rate": 1.5}, format="json")
    assert res.status_code == 400 and res.json()["error"]["details"] == [{"field": "min_pass_rate"}]
    assert PublishGate.objects.get().min_pass_rate == 1.0
