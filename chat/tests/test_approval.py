"""A user_approval addressed to the visitor (`approvers: "visitor"`) shows in the chat and the visitor decides
it there; approvals for staff are not the visitor's to decide."""

import pytest

from chat.tests.test_visitor_api import api, new_thread, read_answer, send
from runs.models import Run
from runs.testing.graphs import MESSAGE_SCHEMA, edge, graph, node, start


def approval_graph(approvers: str) -> dict:
    message = "Send a refund for: {{ workflow.input.message }}?"
    return graph(
        [
            start(MESSAGE_SCHEMA),
            node("confirm", "user_approval", message=message, approvers=approvers),
            node("sent", "end", output={"reply": '"Refund sent."'}),
            node("kept", "end", output={"reply": '"OK, no refund."'}),
        ],
        [edge("start", "confirm"), edge("confirm", "sent", "approved"), edge("confirm", "kept", "rejected")],
    )


@pytest.mark.parametrize(("decision", "reply"), [("approved", "Refund sent."), ("rejected", "OK, no refund.")])
def test_the_visitor_decides_an_approval_addressed_to_them(publish, make_deployment, visitor_client, decision, reply):
    deployment = make_deployment(workflow=publish(approval_graph("visitor")))
    client = visitor_client()
    thread_id = new_thread(client, deployment)
    sent = send(client, deployment, thread_id, "order 42").json()

    waiting = read_answer(client, sent["stream_url"])[-1][2]
    assert waiting["status"] == "waiting"
    assert waiting["approval"]["message"] == "Send a refund for: order 42?"

    decided = client.post(
        f"{api(deployment)}/threads/{thread_id}/messages/{sent['answer']['id']}/approval",
        json={"step_id": waiting["approval"]["step_id"], "decision": decision},
    )

    assert decided.status_code == 202
    done = read_answer(client, decided.json()["stream_url"])[-1][2]
    assert (done["status"], done["content"], done["approval"]) == ("done", reply, None)
    assert Run.objects.get().status == "succeeded"


def test_an_approval_for_staff_is_not_the_visitors_to_decide(publish, make_deployment, visitor_client):
    deployment = make_deployment(workflow=publish(approval_graph("editor")))
    client = visitor_client()
    thread_id = new_thread(client, deployment)
    sent = send(client, deployment, thread_id, "order 42").json()
    on_hold = read_answer(client, sent["stream_url"])[-1][2]
    step = Run.objects.get().steps.get(node_id="confirm")

    refused = client.post(
        f"{api(deployment)}/threads/{thread_id}/messages/{sent['answer']['id']}/approval",
        json={"step_id": str(step.pk), "decision": "approved"},
    )

    assert (on_hold["status"], on_hold["approval"]) == ("waiting", None)
    assert refused.status_code == 404
    assert Run.objects.get().status == "waiting"
