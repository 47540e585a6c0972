"""Templates: listed, each valid (see test_validation), and the no-LLM one runs on the real engine."""

import pytest

from builder.services.templates import TEMPLATES


def test_seven_templates_are_listed_with_their_graphs(client_for, viewer, workspace):
    response = client_for(viewer, workspace).get("/api/v1/templates")
    assert response.status_code == 200
    body = response.json()
    assert [t["slug"] for t in body] == [
        "customer-service-triage",
        "data-enrichment",
        "planning-helper",
        "lead-qualification",
        "content-moderation",
        "order-router",
        "chat-assistant",
    ]
    assert [t["slug"] for t in body if not t["uses_llm"]] == ["order-router"]
    assert all(t["graph"]["format"] == "trellis.graph/1" for t in body)


def test_templates_use_the_node_types_the_issue_asks_for():
    def types(slug):
        return {n["type"] for n in TEMPLATES[slug].graph()["nodes"]}

    assert {"guardrails", "agent", "if_else", "user_approval", "end"} <= types("customer-service-triage")
    assert {"http_request", "agent"} <= types("data-enrichment")
    assert "while" in types("planning-helper")
    assert {"agent", "set_state", "transform", "end"} <= types("lead-qualification")
    assert {"guardrails", "end"} <= types("content-moderation")
    assert "agent" not in types("order-router")
    assert {"start", "agent", "end"} == types("chat-assistant")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("order", "queue"),
    [
        ({"order_id": "A1", "amount": 25, "country": "us"}, "standard"),
        ({"order_id": "A2", "amount": 30, "country": "fr"}, "international"),
    ],
)
def test_the_no_llm_template_publishes_and_runs(client_for, editor, workspace, order, queue):
    client = client_for(editor, workspace)
    workflow = client.post("/api/v1/workflows", {"template": "order-router"}, format="json").json()
    assert client.post(f"/api/v1/workflows/{workflow['id']}/publish", {"note": "v1"}, format="json").status_code == 201
    response = client.post(
        f"/api/v1/workflows/{workflow['id']}/runs",
        {"input": order, "version": "published", "wait": 20},
        format="json",
    )
    assert response.status_code in (200, 201), response.json()
    run = response.json()
    assert run["status"] == "succeeded", run
    assert run["output"] == {
        "queue": queue,
        "order": {
            "order_id": order["order_id"],
            "amount": float(order["amount"]),
            "country": order["country"].upper(),
            "domestic": order["country"] == "us",
        },
    }
