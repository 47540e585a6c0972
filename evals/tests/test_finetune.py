"""Fine-tuning: exports in each provider format (checked against the documented shapes), validation
(minimum count, token counts, masking), jobs on the local model server (launch, poll, succeed, fail,
cancel), the fine-tuned model joining the provider's models and answering differently."""

import json

import pytest

from accounts.models import ModelProvider
from accounts.providers import provider_create
from evals.models import FinetuneExport, FinetuneJob
from evals.services.evals import eval_wait
from evals.services.finetune_export import SCHEMAS
from evals.services.finetune_jobs import finetune_poll_due
from evals.tests.conftest import agent_graph
from runs.services import run_start, run_wait

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def flow_with_runs(make_flow, env_model, client_for, editor, workspace, settings):
    """An agent workflow with 12 finished runs; the first 6 liked, the next 6 disliked (same 6 prompts)."""
    settings.FINETUNE_MIN_EXAMPLES = 5
    wf = make_flow(agent_graph())
    api = client_for(editor, workspace)
    runs = []
    for i in range(12):
        message = f"question {i % 6} from ann@example.com"
        run = run_wait(run_id=run_start(workflow=wf, input={"message": message}).pk, timeout_s=20)
        assert run.status == "succeeded", run.error
        api.post(f"/api/v1/runs/{run.pk}/feedback", {"score": 1 if i < 6 else -1}, format="json")
        runs.append(run)
    return wf, api, runs


def lines(api, export):
    text = api.get(export["download_url"]).content.decode()
    return [json.loads(line) for line in text.splitlines()]


def validate(method, line):
    import jsonschema

    jsonschema.Draft202012Validator(SCHEMAS[method]).validate(line)


def test_a_supervised_export_has_chat_messages_masked_and_counted(flow_with_runs):
    wf, api, _ = flow_with_runs
    res = api.post(
        f"/api/v1/workflows/{wf.pk}/finetune-exports",
        {"node_id": "answer", "method": "supervised", "filters": {"feedback": "up"}, "base_model": "gpt-4.1-mini"},
        format="json",
    )
    assert res.status_code == 201, res.json()
    body = res.json()
    assert body["examples"] == 6
    assert body["warnings"] == ["12 piece(s) of PII or secrets were masked."]
    rows = lines(api, body)
    assert rows[0] == {
        "messages": [
            {"role": "user", "content": "question 0 from <EMAIL>"},
            {"role": "assistant", "content": "You said: question 0 from <EMAIL>"},
        ]
    }
    for row in rows:
        validate("supervised", row)
    assert body["tokens"] == 150  # 25 per example with tiktoken (content, roles, 3 per message)
    assert body["estimated_cost"] == round(body["tokens"] * 3 * 5.0 / 1_000_000, 4)


def test_a_supervised_export_replays_the_agents_tool_calls_and_results_without_the_secret(
    make_flow, env_model, echo_server, allow_loopback, client_for, editor, owner, workspace, settings
):
    from accounts.services import secret_set
    from runs.tests.helpers import START_SCHEMA, line, node, start

    # given: an agent that calls an HTTP tool (bearer secret) on every run, through the engine
    settings.FINETUNE_MIN_EXAMPLES = 1
    secret_set(workspace=workspace, name="ORDERS_TOKEN", value="tok-very-secret-123", by=owner)
    tool = {
        "type": "http",
        "name": "lookup_order",
        "description": "Looks up an order",
        "method": "POST",
        "url": echo_server.base_url + "/echo",
        "auth": {"type": "bearer", "secret": "ORDERS_TOKEN"},
        "body_schema": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]},
    }
    graph = line(
        start(START_SCHEMA),
        node(
            "answer",
            "agent",
            model="gpt-4.1-mini",
            instructions="Use lookup_order: {{ workflow.input.message }}",
            tools=[tool],
        ),
        node("end", "end", output={"text": "nodes.answer.output"}),
    )
    wf = make_flow(graph)
    run = run_wait(run_id=run_start(workflow=wf, input={"message": "order 7"}).pk, timeout_s=20)
    assert run.status == "succeeded", run.error
    step = run.steps.get(node_id="answer")
    [call] = step.usage["transcript"]["messages"][0]["tool_calls"]

    # when
    api = client_for(editor, workspace)
    res = api.post(
        f"/api/v1/workflows/{wf.pk}/finetune-exports", {"node_id": "answer", "method": "supervised"}, format="json"
    )

    # then: OpenAI's chat format with tools: the call, its result by call id, the final answer, the tool's definition
    assert res.status_code == 201, res.json()
    [row] = lines(api, res.json())
    validate("supervised", row)
    messages = row["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant"]
    assert messages[0] == {"role": "user", "content": "Use lookup_order: order 7"}
    assert messages[1] == {
        "role": "assistant",
        "tool_calls": [
            {
                "id": call["id"],
                "type": "function",
                "function": {"name": "lookup_order", "arguments": '{"order_id": "Use lookup_order: order 7"}'},
            }
        ],
    }
    assert set(messages[2]) == {"role", "tool_call_id", "content"}
    assert messages[2]["tool_call_id"] == call["id"]
    assert json.loads(json.loads(messages[2]["content"])["body"]) == {"order_id": "Use lookup_order: order 7"}
    assert "Bearer [redacted]" in messages[2]["content"]  # the echoed Authorization header, masked
    assert set(messages[3]) == {"role", "content"}  # the final answer: the run's output, its address masked
    assert messages[3]["content"] == run.output["text"].replace("127.0.0.1", "<IP_ADDRESS>")
    assert messages[3]["content"].startswith("The lookup_order tool returned: {")
    assert row["tools"] == [
        {
            "type": "function",
            "function": {"name": "lookup_order", "description": "Looks up an order", "parameters": tool["body_schema"]},
        }
    ]
    stored = [step.usage, FinetuneExport.objects.get().content, *run.events.values_list("data", flat=True)]
    assert "tok-very-secret-123" not in json.dumps(stored, default=str)


def test_a_supervised_example_without_tool_calls_declares_the_tools_as_the_agent_offered_them(
    make_flow, env_model, client_for, editor, workspace, settings
):
    from runs.tests.helpers import START_SCHEMA, line, node, start

    settings.FINETUNE_MIN_EXAMPLES = 1
    body_schema = {"type": "object", "properties": {"order_id": {"type": "string"}}}
    tool = {
        "type": "http",
        "name": "order_status",
        "method": "GET",
        "url": "https://api.example.com/orders",
        "body_schema": body_schema,
    }
    graph = line(
        start(START_SCHEMA),
        node("answer", "agent", model="gpt-4.1-mini", instructions="{{ workflow.input.message }}", tools=[tool]),
        node("end", "end", output={"text": "nodes.answer.output"}),
    )
    wf = make_flow(graph)
    run = run_wait(run_id=run_start(workflow=wf, input={"message": "hello there"}).pk, timeout_s=20)
    assert run.status == "succeeded", run.error
    assert "transcript" not in run.steps.get(node_id="answer").usage  # the model answered without a tool

    api = client_for(editor, workspace)
    res = api.post(
        f"/api/v1/workflows/{wf.pk}/finetune-exports", {"node_id": "answer", "method": "supervised"}, format="json"
    )

    assert res.status_code == 201, res.json()
    [row] = lines(api, res.json())
    assert row == {
        "messages": [
            {"role": "user", "content": "hello there"},
            {"role": "assistant", "content": "You said: hello there"},
        ],
        "tools": [
            {
                "type": "function",
                "function": {"name": "order_status", "description": "Calls order_status.", "parameters": body_schema},
            }
        ],
    }


def test_a_dpo_export_pairs_a_liked_and_a_disliked_answer_to_the_same_prompt(flow_with_runs):
    wf, api, _ = flow_with_runs
    res = api.post(f"/api/v1/workflows/{wf.pk}/finetune-exports", {"node_id": "answer", "method": "dpo"}, format="json")
    assert res.status_code == 201, res.json()
    rows = lines(api, res.json())
    assert len(rows) == 6
    assert rows[0]["input"] == {"messages": [{"role": "user", "content": "question 0 from <EMAIL>"}]}
    assert rows[0]["preferred_output"] == [{"role": "assistant", "content": "You said: question 0 from <EMAIL>"}]
    assert rows[0]["non_preferred_output"] == [{"role": "assistant", "content": "You said: question 0 from <EMAIL>"}]
    for row in rows:
        validate("dpo", row)


def test_a_reinforcement_export_carries_the_reference_the_exported_grader_reads(flow_with_runs):
    wf, api, _ = flow_with_runs
    grader = {
        "type": "string_check",
        "name": "exact",
        "input": "{{ output }}",
        "reference": "{{ expected }}",
        "operation": "eq",
    }
    res = api.post(
        f"/api/v1/workflows/{wf.pk}/finetune-exports",
        {"node_id": "answer", "method": "reinforcement", "grader": grader},
        format="json",
    )
    assert res.status_code == 201, res.json()
    assert res.json()["grader"] == {
        "type": "string_check",
        "name": "exact",
        "input": "{{ sample.output_text }}",
        "reference": "{{ item.reference_answer }}",
        "operation": "eq",
    }
    rows = lines(api, res.json())
    assert len(rows) == 12
    assert rows[0] == {
        "messages": [{"role": "user", "content": "question 0 from <EMAIL>"}],
        "reference_answer": "You said: question 0 from <EMAIL>",
        "input": {"message": "question 0 from <EMAIL>"},
    }
    for row in rows:
        validate("reinforcement", row)


def test_too_few_examples_are_refused_and_nothing_is_stored(flow_with_runs, settings):
    wf, api, _ = flow_with_runs
    settings.FINETUNE_MIN_EXAMPLES = 10
    res = api.post(
        f"/api/v1/workflows/{wf.pk}/finetune-exports",
        {"node_id": "answer", "method": "supervised", "filters": {"feedback": "up"}},
        format="json",
    )
    assert res.status_code == 422
    assert res.json()["error"]["code"] == "too_few_examples"
    assert res.json()["error"]["message"] == (
        "6 example(s) match; fine-tuning needs at least 10 (TRELLIS_FINETUNE_MIN_EXAMPLES)."
    )
    assert FinetuneExport.objects.count() == 0


@pytest.fixture
def local_provider(workspace, env_model, allow_loopback):
    return provider_create(
        workspace=workspace,
        name="local",
        base_url=env_model.base_url,
        api_style="chat_completions",
        models=["gpt-4.1-mini"],
        api_key="local-key",
    )


def launch(api, flow_with_runs, provider, training_note=""):
    wf, _, _ = flow_with_runs
    export = api.post(
        f"/api/v1/workflows/{wf.pk}/finetune-exports", {"node_id": "answer", "method": "supervised"}, format="json"
    ).json()
    if training_note:
        FinetuneExport.objects.filter(pk=export["id"]).update(
            content=FinetuneExport.objects.get(pk=export["id"]).content.replace("question 0", training_note)
        )
    res = api.post(
        "/api/v1/finetune-jobs",
        {
            "export": export["id"],
            "provider": provider.pk,
            "base_model": "gpt-4.1-mini",
            "hyperparameters": {"n_epochs": 2},
        },
        format="json",
    )
    assert res.status_code == 201, res.json()
    return res.json()


def test_a_job_is_launched_polled_by_the_worker_and_its_model_joins_the_provider(
    flow_with_runs, local_provider, env_model, client_for, editor, workspace
):
    _, api, _ = flow_with_runs
    job = launch(api, flow_with_runs, local_provider)
    assert job["status"] == "validating_files"
    sent = [r for r in env_model.requests if r["path"] == "/v1/fine_tuning/jobs"][0]["body"]
    assert sent["method"] == {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2}}}
    assert sent["model"] == "gpt-4.1-mini" and sent["training_file"].startswith("file-")

    polls = 0
    while FinetuneJob.objects.get(pk=job["id"]).status != "succeeded":
        assert finetune_poll_due() == 1
        polls += 1
        assert polls < 5
    done = api.get(f"/api/v1/finetune-jobs/{job['id']}").json()

    assert polls == 3
    assert done["fine_tuned_model"].startswith("ft:gpt-4.1-mini:trellis::")
    assert done["events"][-1]["message"] == "The job has successfully completed"
    assert ModelProvider.objects.get(pk=local_provider.pk).models == ["gpt-4.1-mini", done["fine_tuned_model"]]


def test_the_fine_tuned_model_swapped_into_the_draft_is_evaluated_against_v1_and_compared(
    flow_with_runs, local_provider, client_for, editor, workspace
):
    wf, api, runs = flow_with_runs
    assert api.post(f"/api/v1/workflows/{wf.pk}/publish", {"note": "v1"}, format="json").status_code == 201
    job = launch(api, flow_with_runs, local_provider)
    for _ in range(3):
        finetune_poll_due()
    model = FinetuneJob.objects.get(pk=job["id"]).fine_tuned_model

    swapped = api.post(
        f"/api/v1/workflows/{wf.pk}/try-model",
        {"node_id": "answer", "model": model, "provider": local_provider.pk},
        format="json",
    )
    copied = api.post(
        f"/api/v1/workflows/{wf.pk}/try-model",
        {"node_id": "answer", "model": model, "provider": local_provider.pk, "copy": True},
        format="json",
    )

    assert swapped.status_code == 201 and swapped.json()["id"] == str(wf.pk)
    assert copied.status_code == 201 and copied.json()["id"] != str(wf.pk)
    grader = {
        "type": "text_similarity",
        "name": "close",
        "evaluation_metric": "rouge_l",
        "pass_threshold": 0.9,
        "input": "{{ output.text }}",
    }
    did = api.post(
        f"/api/v1/workflows/{wf.pk}/datasets", {"name": "golden", "graders": [grader]}, format="json"
    ).json()["id"]
    api.post(
        f"/api/v1/workflows/{wf.pk}/datasets/{did}/items",
        {"items": [{"input": {"message": "hello"}, "expected": "Fine-tuned answer: hello"}]},
        format="json",
    )
    ids = []
    for version in (1, "draft"):
        res = api.post(f"/api/v1/workflows/{wf.pk}/evals", {"dataset": did, "version": version}, format="json")
        ids.append(res.json()["id"])
        eval_wait(eval_id=ids[-1], timeout_s=30)
    compared = api.get(f"/api/v1/workflows/{wf.pk}/evals/{ids[0]}/compare/{ids[1]}").json()
    assert (compared["regressions"], compared["improvements"]) == (0, 1)
    assert compared["items"][0]["a"]["output"] == {"text": "You said: hello"}
    assert compared["items"][0]["b"]["output"] == {"text": "Fine-tuned answer: hello"}


def test_a_failing_job_records_the_providers_error(flow_with_runs, local_provider):
    _, api, _ = flow_with_runs
    job = launch(api, flow_with_runs, local_provider, training_note="[[ft-fail]]")
    for _ in range(3):
        finetune_poll_due()
    stored = FinetuneJob.objects.get(pk=job["id"])
    assert stored.status == "failed"
    assert stored.error == {"code": "invalid_training_data", "message": "The training data asked to fail."}
    assert stored.fine_tuned_model == ""
    assert ModelProvider.objects.get(pk=local_provider.pk).models == ["gpt-4.1-mini"]


def test_a_job_is_cancelled_and_cannot_be_cancelled_twice(flow_with_runs, local_provider):
    _, api, _ = flow_with_runs
    job = launch(api, flow_with_runs, local_provider)
    first = api.post(f"/api/v1/finetune-jobs/{job['id']}/cancel")
    second = api.post(f"/api/v1/finetune-jobs/{job['id']}/cancel")
    assert first.status_code == 200 and first.json()["status"] == "cancelled"
    assert second.status_code == 409 and second.json()["error"]["code"] == "job_finished"
    assert finetune_poll_due() == 0


def test_jobs_and_exports_of_another_workspace_answer_404(
    flow_with_runs, local_provider, client_for, make_user, make_workspace, viewer, workspace
):
    _, api, _ = flow_with_runs
    job = launch(api, flow_with_runs, local_provider)
    stranger = make_user()
    outsider = client_for(stranger, make_workspace(owner=stranger))
    export_id = job["export"]
    assert outsider.get(f"/api/v1/finetune-jobs/{job['id']}").status_code == 404
    assert outsider.post(f"/api/v1/finetune-jobs/{job['id']}/cancel").status_code == 404
    assert outsider.get(f"/api/v1/finetune-exports/{export_id}/download").status_code == 404
    assert outsider.get("/api/v1/finetune-jobs").json() == []
    watcher = client_for(viewer, workspace)
    assert watcher.get(f"/api/v1/finetune-jobs/{job['id']}").status_code == 200
    assert watcher.post(f"/api/v1/finetune-jobs/{job['id']}/cancel").status_code == 403
    # a viewer reads exports and jobs but makes neither
    wf = flow_with_runs[0]
    assert watcher.get(f"/api/v1/workflows/{wf.pk}/finetune-exports").status_code == 200
    made = watcher.post(
        f"/api/v1/workflows/{wf.pk}/finetune-exports", {"node_id": "answer", "method": "supervised"}, format="json"
    )
    launched = watcher.post(
        "/api/v1/finetune-jobs",
        {"export": export_id, "provider": local_provider.pk, "base_model": "gpt-4.1-mini"},
        format="json",
    )
    assert (made.status_code, launched.status_code) == (403, 403)
    assert (FinetuneExport.objects.count(), FinetuneJob.objects.count()) == (1, 1)
    assert FinetuneJob.objects.get().status != "cancelled"


def test_the_default_mode_scheduler_loop_polls_jobs_until_they_finish(flow_with_runs, local_provider):
    import threading
    import time

    from runs.triggers.scheduler import run_forever

    _, api, _ = flow_with_runs
    job = launch(api, flow_with_runs, local_provider)
    run_forever(stop=threading.Event(), tick_s=0.05, until=time.monotonic() + 1.0)
    assert FinetuneJob.objects.get(pk=job["id"]).status == "succeeded"


def approval_graph() -> dict:
    from runs.tests.helpers import START_SCHEMA, edge, graph, node, start

    return graph(
        [
            start(START_SCHEMA),
            node("answer", "agent", model="gpt-4.1-mini", instructions="{{ workflow.input.message }}"),
            node("review", "user_approval", message="ok?", approvers="editor"),
            node("done", "end", output={"text": "nodes.answer.output"}),
            node("refused", "end", output={"text": "'refused'"}),
        ],
        [
            edge("start", "answer"),
            edge("answer", "review"),
            edge("review", "done", "approved"),
            edge("review", "refused", "rejected"),
        ],
    )


def test_approvals_and_rejections_are_feedback_on_the_step_they_reviewed_and_make_dpo_pairs(
    make_flow, env_model, client_for, editor, workspace, settings
):
    settings.FINETUNE_MIN_EXAMPLES = 1
    wf = make_flow(approval_graph())
    api = client_for(editor, workspace)
    decided = []
    for decision in ("approved", "rejected"):
        run = run_wait(run_id=run_start(workflow=wf, input={"message": "refund order 7"}).pk, timeout_s=20)
        assert run.status == "waiting"
        review = run.steps.get(node_id="review", status="waiting")
        res = api.post(
            f"/api/v1/runs/{run.pk}/approvals",
            {"step_id": str(review.pk), "decision": decision, "comment": decision},
            format="json",
        )
        assert res.status_code in (200, 202), res.json()
        decided.append(run_wait(run_id=run.pk, timeout_s=20))

    feedback = api.get(f"/api/v1/runs/{decided[1].pk}/feedback").json()
    answer = decided[1].steps.get(node_id="answer")
    assert [(f["source"], f["score"], f["step_id"], f["comment"]) for f in feedback] == [
        ("approval", -1, str(answer.pk), "rejected")
    ]

    res = api.post(f"/api/v1/workflows/{wf.pk}/finetune-exports", {"node_id": "answer", "method": "dpo"}, format="json")
    assert res.status_code == 201, res.json()
    rows = lines(api, res.json())
    assert rows == [
        {
            "input": {"messages": [{"role": "user", "content": "refund order 7"}]},
            "preferred_output": [{"role": "assistant", "content": "You said: refund order 7"}],
            "non_preferred_output": [{"role": "assistant", "content": "You said: refund order 7"}],
        }
    ]


def test_dpo_and_reinforcement_jobs_send_their_method_and_grader(flow_with_runs, local_provider, env_model):
    wf, api, _ = flow_with_runs
    grader = {"type": "text_similarity", "name": "close", "evaluation_metric": "fuzzy_match", "pass_threshold": 0.8}
    sent = []
    for body in ({"method": "dpo"}, {"method": "reinforcement", "grader": grader}):
        export = api.post(
            f"/api/v1/workflows/{wf.pk}/finetune-exports", {"node_id": "answer", **body}, format="json"
        ).json()
        res = api.post(
            "/api/v1/finetune-jobs",
            {"export": export["id"], "provider": local_provider.pk, "base_model": "o4-mini"},
            format="json",
        )
        assert res.status_code == 201, res.json()
        sent.append([r for r in env_model.requests if r["path"] == "/v1/fine_tuning/jobs"][-1]["body"]["method"])
    assert sent == [
        {"type": "dpo", "dpo": {}},
        {
            "type": "reinforcement",
            "reinforcement": {
                "grader": {
                    "type": "text_similarity",
                    "name": "close",
                    "evaluation_metric": "fuzzy_match",
                    "pass_threshold": 0.8,
                }
            },
        },
    ]


def test_a_provider_that_refuses_the_job_answers_502_and_stores_no_job(
    flow_with_runs, workspace, env_model, allow_loopback
):
    wf, api, _ = flow_with_runs
    bad = provider_create(workspace=workspace, name="bad", base_url=env_model.base_url, api_key="bad-key")
    export = api.post(
        f"/api/v1/workflows/{wf.pk}/finetune-exports", {"node_id": "answer", "method": "supervised"}, format="json"
    ).json()
    res = api.post(
        "/api/v1/finetune-jobs",
        {"export": export["id"], "provider": bad.pk, "base_model": "gpt-4.1-mini"},
        format="json",
    )
    assert res.status_code == 502
    assert res.json()["error"]["code"] == "provider_error"
    assert FinetuneJob.objects.count() == 0


def test_deleting_the_provider_or_the_workflow_takes_its_jobs_along(flow_with_runs, local_provider):
    from accounts.providers import provider_delete
    from builder.models import Workflow

    wf, api, _ = flow_with_runs
    launch(api, flow_with_runs, local_provider)
    provider_delete(provider=local_provider)
    assert FinetuneJob.objects.count() == 0 and FinetuneExport.objects.count() == 1
    Workflow.objects.get(pk=wf.pk).delete()
    assert FinetuneExport.objects.count() == 0
