"""The runs API: start (with wait), validation, list with keyset pagination, detail, cancel, approvals, rerun.

These run the real default-mode path: committed rows, dispatch on commit, the in-process executor."""

import time

import pytest

from accounts.services import api_token_create
from runs.dispatch import dispatch_run
from runs.models import Run, Step
from runs.services import run_start, run_wait
from runs.tests.helpers import START_SCHEMA, edge, graph, line, node, start

pytestmark = pytest.mark.django_db(transaction=True)


def simple_graph():
    return line(
        start(START_SCHEMA),
        node("shout", "transform", output={"text": "workflow.input.message.upperAscii()"}),
        node("end", "end", output={"text": "nodes.shout.output.text"}),
    )


def finish(run_id, timeout=10):
    run = run_wait(run_id=run_id, timeout_s=timeout)
    while run.status == "waiting":
        break
    return run


def test_starting_a_run_with_wait_returns_the_finished_run(make_workflow, client_for, editor, workspace):
    wf = make_workflow(simple_graph())
    res = client_for(editor, workspace).post(
        f"/api/v1/workflows/{wf.pk}/runs", {"input": {"message": "hi"}, "wait": 10}, format="json"
    )
    assert res.status_code == 201, res.json()
    body = res.json()
    assert body["status"] == "succeeded"
    assert body["output"] == {"text": "HI"}
    assert body["error"] is None
    assert body["is_draft"] is True and body["version"] is None
    assert body["workflow"] == str(wf.pk)
    assert body["trigger"] == {"type": "manual"}
    assert body["usage"] == {"input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0}
    assert [s["node_id"] for s in body["steps"]] == ["start", "shout", "end"]
    shout = body["steps"][1]
    assert shout["status"] == "succeeded"
    assert shout["input"] == {"message": "hi"}
    assert shout["output"] == {"text": "HI"}
    assert set(shout) >= {"id", "attempt", "iteration", "error", "started_at", "finished_at", "duration_ms", "usage"}


def test_input_that_breaks_the_start_schema_is_refused_with_paths(make_workflow, client_for, editor, workspace):
    wf = make_workflow(simple_graph())
    res = client_for(editor, workspace).post(
        f"/api/v1/workflows/{wf.pk}/runs", {"input": {"message": 3}}, format="json"
    )
    assert res.status_code == 422
    error = res.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["details"] == [{"path": "/message", "message": "3 is not of type 'string'"}]
    assert Run.objects.count() == 0


def test_the_published_version_is_required_for_published_runs(make_workflow, client_for, editor, workspace):
    wf = make_workflow(simple_graph())
    res = client_for(editor, workspace).post(
        f"/api/v1/workflows/{wf.pk}/runs", {"input": {"message": "x"}, "version": "published"}, format="json"
    )
    assert res.status_code == 422
    assert res.json()["error"]["code"] == "not_published"
    published = make_workflow(simple_graph(), publish=True)
    res = client_for(editor, workspace).post(
        f"/api/v1/workflows/{published.pk}/runs", {"input": {"message": "x"}, "version": 1, "wait": 10}, format="json"
    )
    assert res.status_code == 201
    assert res.json()["version"] == 1 and res.json()["is_draft"] is False
    assert res.json()["status"] == "succeeded"


def test_a_published_run_keeps_no_copy_of_the_graph_and_still_shows_the_graph_it_ran(
    make_workflow, client_for, editor, workspace
):
    published = make_workflow(simple_graph(), publish=True)
    client = client_for(editor, workspace)

    res = client.post(
        f"/api/v1/workflows/{published.pk}/runs", {"input": {"message": "x"}, "version": 1, "wait": 10}, format="json"
    )

    assert res.status_code == 201 and res.json()["output"] == {"text": "X"}
    run = Run.objects.get(pk=res.json()["id"])
    assert run.graph is None  # read from the immutable version, not copied into every run row
    graph = client.get(f"/api/v1/runs/{run.pk}/graph").json()
    assert graph["graph"] == simple_graph() and graph["version"] == 1
    # a draft run keeps its snapshot: the draft may change after it ran
    draft = client.post(
        f"/api/v1/workflows/{published.pk}/runs", {"input": {"message": "y"}, "wait": 10}, format="json"
    )
    assert Run.objects.get(pk=draft.json()["id"]).graph == published.draft_graph


def test_viewers_cannot_start_runs_and_other_workspaces_see_404(
    make_workflow, client_for, viewer, workspace, make_workspace, make_user
):
    wf = make_workflow(simple_graph())
    res = client_for(viewer, workspace).post(
        f"/api/v1/workflows/{wf.pk}/runs", {"input": {"message": "x"}}, format="json"
    )
    assert res.status_code == 403
    stranger = make_user()
    other = make_workspace(owner=stranger)
    res = client_for(stranger, other).post(
        f"/api/v1/workflows/{wf.pk}/runs", {"input": {"message": "x"}}, format="json"
    )
    assert res.status_code == 404
    run = run_start(workflow=wf, input={"message": "x"})
    finish(run.pk)
    assert client_for(stranger, other).get(f"/api/v1/runs/{run.pk}").status_code == 404
    assert client_for(viewer, workspace).get(f"/api/v1/runs/{run.pk}").status_code == 200
    assert Run.objects.count() == 1


def test_an_idempotency_key_returns_the_first_run(make_workflow):
    wf = make_workflow(simple_graph())
    first = run_start(workflow=wf, input={"message": "x"}, idempotency_key="abc")
    second = run_start(workflow=wf, input={"message": "y"}, idempotency_key="abc")
    assert first.pk == second.pk
    assert Run.objects.count() == 1
    finish(first.pk)


def test_the_run_list_is_filtered_and_keyset_paginated(make_workflow, make_run, client_for, viewer, workspace):
    wf = make_workflow(simple_graph())
    other = make_workflow(simple_graph())
    runs = [make_run(simple_graph(), workflow=wf) for _ in range(5)]
    make_run(simple_graph(), workflow=other)
    Run.objects.filter(pk=runs[0].pk).update(status="failed")
    client = client_for(viewer, workspace)
    page1 = client.get(f"/api/v1/runs?workflow={wf.pk}&limit=2").json()
    assert [r["id"] for r in page1["results"]] == [str(r.pk) for r in reversed(runs)][:2]
    assert "steps" not in page1["results"][0]
    page2 = client.get(f"/api/v1/runs?workflow={wf.pk}&limit=2&cursor={page1['next_cursor']}").json()
    page3 = client.get(f"/api/v1/runs?workflow={wf.pk}&limit=2&cursor={page2['next_cursor']}").json()
    ids = [r["id"] for p in (page1, page2, page3) for r in p["results"]]
    assert ids == [str(r.pk) for r in reversed(runs)]
    assert page3["next_cursor"] is None
    failed = client.get("/api/v1/runs?status=failed").json()["results"]
    assert [r["id"] for r in failed] == [str(runs[0].pk)]
    assert len(client.get("/api/v1/runs").json()["results"]) == 6


def test_cancelling_a_running_run_interrupts_the_node_in_flight(make_workflow, make_run, client_for, editor, workspace):
    run = make_run(line(start(), node("slow", "test_sleep", seconds=30), node("end", "end")))
    dispatch_run(run.pk)
    deadline = time.monotonic() + 10
    while not Step.objects.filter(run=run, node_id="slow", status="running").exists():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    t0 = time.monotonic()
    res = client_for(editor, workspace).post(f"/api/v1/runs/{run.pk}/cancel")
    assert res.status_code == 202
    run = run_wait(run_id=run.pk, timeout_s=10)
    assert time.monotonic() - t0 < 2
    assert run.status == "cancelled"
    assert run.error["code"] == "cancelled"
    assert Step.objects.get(run=run, node_id="slow").status == "cancelled"
    assert not Step.objects.filter(run=run, node_id="end").exists()


def test_cancelling_a_waiting_run_ends_it_at_once(make_run, advance, client_for, editor, workspace):
    g = graph(
        [start(), node("ask", "user_approval", message="ok?"), node("end", "end")],
        [edge("start", "ask"), edge("ask", "end", "approved")],
    )
    run = make_run(g)
    dispatch_run(run.pk)
    run = run_wait(run_id=run.pk, timeout_s=10)
    assert run.status == "waiting"
    res = client_for(editor, workspace).post(f"/api/v1/runs/{run.pk}/cancel")
    assert res.status_code == 200
    assert res.json()["status"] == "cancelled"
    assert Step.objects.get(run=run, node_id="ask").status == "cancelled"
    assert client_for(editor, workspace).post(f"/api/v1/runs/{run.pk}/cancel").json()["status"] == "cancelled"


def test_approvals_over_the_api_resume_the_run(make_workflow, client_for, editor, viewer, workspace):
    g = graph(
        [
            start(),
            node("ask", "user_approval", message="ship it?"),
            node("yes", "end", output="'shipped'"),
            node("no", "end", output="'held'"),
        ],
        [edge("start", "ask"), edge("ask", "yes", "approved"), edge("ask", "no", "rejected")],
    )
    wf = make_workflow(g)
    body = client_for(editor, workspace).post(f"/api/v1/workflows/{wf.pk}/runs", {"wait": 10}, format="json").json()
    assert body["status"] == "waiting"
    step = next(s for s in body["steps"] if s["node_id"] == "ask")
    assert step["status"] == "waiting" and step["wait"]["message"] == "ship it?"
    url = f"/api/v1/runs/{body['id']}/approvals"
    res = client_for(viewer, workspace).post(url, {"step_id": step["id"], "decision": "approved"}, format="json")
    assert res.status_code == 403
    res = client_for(editor, workspace).post(url, {"step_id": step["id"], "decision": "maybe"}, format="json")
    assert res.status_code == 400
    res = client_for(editor, workspace).post(
        url, {"step_id": step["id"], "decision": "approved", "comment": "go"}, format="json"
    )
    assert res.status_code == 200
    run = run_wait(run_id=body["id"], timeout_s=10)
    assert run.status == "succeeded" and run.output == "shipped"


def test_rerun_repeats_the_input_and_rerun_from_a_step_keeps_earlier_steps(
    make_workflow, client_for, editor, workspace
):
    wf = make_workflow(simple_graph())
    client = client_for(editor, workspace)
    first = client.post(
        f"/api/v1/workflows/{wf.pk}/runs", {"input": {"message": "a"}, "wait": 10}, format="json"
    ).json()
    again = client.post(f"/api/v1/runs/{first['id']}/rerun", {"wait": 10}, format="json").json()
    assert again["id"] != first["id"]
    assert again["input"] == {"message": "a"} and again["output"] == {"text": "A"}
    assert again["trigger"] == {"type": "rerun", "run_id": first["id"]}
    # change the draft after `shout`, then rerun from the end step
    g = simple_graph()
    g["nodes"][2]["config"]["output"] = {"text": "nodes.shout.output.text + '!'"}
    wf.draft_graph = g
    wf.save()
    end_step = next(s for s in first["steps"] if s["node_id"] == "end")
    shout_step = next(s for s in first["steps"] if s["node_id"] == "shout")
    res = client.post(f"/api/v1/runs/{first['id']}/rerun", {"from_step": end_step["id"], "wait": 10}, format="json")
    assert res.status_code == 201
    body = res.json()
    assert body["status"] == "succeeded"
    assert body["output"] == {"text": "A!"}
    kept = next(s for s in body["steps"] if s["node_id"] == "shout")
    assert kept["started_at"] == shout_step["started_at"]  # copied, not executed again
    assert [s["node_id"] for s in body["steps"]] == ["start", "shout", "end"]


def test_events_can_be_read_after_a_sequence_number(make_workflow, client_for, workspace, owner):
    wf = make_workflow(simple_graph())
    run = run_start(workflow=wf, input={"message": "x"})
    finish(run.pk)
    _, raw = api_token_create(workspace=workspace, user=owner, name="t")
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    events = client.get(f"/api/v1/runs/{run.pk}/events?after=2").json()["events"]
    assert events[0]["seq"] == 3
    assert events[-1]["type"] == "run.finished"
    assert set(events[0]) == {"seq", "type", "run_id", "node_id", "ts", "data"}


def test_an_approval_decided_while_another_branch_runs_is_picked_up(make_run, client_for, editor, workspace):
    g = graph(
        [
            start(),
            node("ask", "user_approval", message="go?"),
            node("slow", "test_sleep", seconds=1),
            node(
                "join",
                "transform",
                output={"decision": "nodes.ask.output.decision", "slept": "nodes.slow.output.slept"},
            ),
            node("end", "end", output="nodes.join.output"),
        ],
        [
            edge("start", "ask"),
            edge("start", "slow"),
            edge("ask", "join", "approved"),
            edge("slow", "join"),
            edge("join", "end"),
        ],
    )
    run = make_run(g)
    dispatch_run(run.pk)
    deadline = time.monotonic() + 10
    while not Step.objects.filter(run=run, node_id="ask", status="waiting").exists():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    step = Step.objects.get(run=run, node_id="ask")
    assert Run.objects.get(pk=run.pk).status == "running"  # `slow` is still in flight
    res = client_for(editor, workspace).post(
        f"/api/v1/runs/{run.pk}/approvals", {"step_id": str(step.pk), "decision": "approved"}, format="json"
    )
    assert res.status_code == 200
    run = run_wait(run_id=run.pk, timeout_s=10)
    assert run.status == "succeeded", run.error
    assert run.output == {"decision": "approved", "slept": 1}
    assert Step.objects.filter(run=run, node_id="join").count() == 1


def test_the_approver_role_of_a_published_run_comes_from_its_version(make_workflow):
    from runs.services import approval_role

    g = line(start(START_SCHEMA), node("ok", "user_approval", approvers="admin"), node("end", "end", output={}))
    g["edges"][-1]["source_port"] = "approved"
    published = make_workflow(g, publish=True)

    run = Run.objects.get(pk=run_start(workflow=published, version="published", input={"message": "x"}).pk)

    assert run.graph is None
    assert approval_role(Step(run=run, node_id="ok"), run) == "admin"


def test_a_json_null_body_does_not_start_a_run(make_workflow, client_for, editor, workspace):
    wf = make_workflow(simple_graph())

    response = client_for(editor, workspace).post(
        f"/api/v1/workflows/{wf.pk}/runs", data="null", content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "bad_request",
        "message": "The body must be a JSON object.",
        "details": [],
    }
    assert Run.objects.count() == 0


def test_a_rerun_from_a_step_that_is_not_a_step_id_is_refused(make_workflow, client_for, editor, workspace):
    wf = make_workflow(simple_graph())
    client = client_for(editor, workspace)
    first = client.post(
        f"/api/v1/workflows/{wf.pk}/runs", {"input": {"message": "hi"}, "wait": 10}, format="json"
    ).json()

    response = client.post(f"/api/v1/runs/{first['id']}/rerun", {"from_step": ""}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == [{"field": "from_step", "message": "Not a step id."}]
    assert Run.objects.count() == 1


def test_an_empty_run_filter_means_no_filter(make_workflow, client_for, editor, workspace):
    wf = make_workflow(simple_graph())
    client = client_for(editor, workspace)
    client.post(f"/api/v1/workflows/{wf.pk}/runs", {"input": {"message": "hi"}, "wait": 10}, format="json")

    response = client.get("/api/v1/runs?workflow=&status=&version=&trigger=&since=&until=&cursor=")

    assert response.status_code == 200
    assert len(response.json()["results"]) == 1
