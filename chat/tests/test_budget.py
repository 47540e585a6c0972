"""A chat deployment can have a budget of its own (DESIGN §12): a visitor's message that would cross it is
answered without the model being called."""

from runs.models import Run, Step
from runs.services import run_wait

from .test_visitor_api import new_thread, send


def test_a_chat_deployment_budget_stops_the_answer_before_the_model_is_called(
    chat_model, deployment, visitor_client, client_for, owner, workspace, viewer
):
    # given: a budget of a millionth of a dollar on the deployment, set by an admin (a viewer may not)
    url = f"/api/v1/chat-deployments/{deployment.pk}/budget"
    body = {"window": "month", "limit_usd": 0.000001}
    assert client_for(viewer, workspace).put(url, body, format="json").status_code == 403
    response = client_for(owner, workspace).put(url, body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["scope"] == "chat_deployment"
    chat_model.reset()
    # when a visitor asks something
    client = visitor_client()
    sent = send(client, deployment, new_thread(client, deployment), "where is my parcel?")
    assert sent.status_code == 202
    run = run_wait(run_id=Run.objects.get().pk, timeout_s=30)
    # then the run stopped at the agent with budget_exceeded, naming the deployment's budget, and nothing was sent
    assert run.status == "failed"
    assert run.error["code"] == "budget_exceeded"
    step = Step.objects.get(run=run, node_id=run.error["node_id"])
    assert step.error["details"]["scope"] == "chat_deployment"
    assert "the chat deployment's budget" in step.error["message"]
    assert not [r for r in chat_model.requests if r["path"].endswith(("/responses", "/chat/completions"))]


def test_another_workspaces_chat_deployment_budget_answers_404(deployment, make_workspace, client_for, make_user):
    stranger = make_user()
    other = make_workspace(owner=stranger)
    response = client_for(stranger, other).get(f"/api/v1/chat-deployments/{deployment.pk}/budget")
    assert response.status_code == 404
