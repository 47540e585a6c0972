"""Editors see chat runs in the run list (trigger type chat) and each deployment's conversations."""

from chat.models import ChatThread
from chat.tests.test_visitor_api import new_thread, read_answer, send
from runs.models import Run


def test_editors_see_chat_runs_in_the_run_list_and_the_deployments_conversations(
    chat_model, deployment, visitor_client, client_for, viewer
):
    client = visitor_client()
    thread_id = new_thread(client, deployment)
    read_answer(client, send(client, deployment, thread_id, "hello").json()["stream_url"])
    run = Run.objects.get()
    staff = client_for(viewer)
    base = f"/api/v1/workflows/{deployment.workflow_id}/deployments/{deployment.pk}"

    runs = staff.get("/api/v1/runs?trigger=chat").json()
    threads = staff.get(f"{base}/threads").json()
    detail = staff.get(f"{base}/threads/{thread_id}").json()

    assert [r["id"] for r in runs["results"]] == [str(run.pk)]
    assert runs["results"][0]["trigger"]["type"] == "chat"
    assert [(t["id"], t["title"], t["message_count"]) for t in threads] == [(thread_id, "hello", 1)]
    assert [(m["role"], m["content"], m["run_id"]) for m in detail["messages"]] == [
        ("user", "hello", None),
        ("assistant", "You said: hello", str(run.pk)),
    ]
    assert ChatThread.objects.get().tokens_used == run.usage["input_tokens"] + run.usage["output_tokens"] > 0


def test_citations_in_the_output_reach_the_page_as_footnotes(publish, make_deployment, visitor_client):
    graph = {
        "format": "trellis.graph/1",
        "nodes": [
            {"id": "start", "type": "start", "name": "Start", "position": {"x": 0, "y": 0}, "config": {}},
            {
                "id": "done",
                "type": "end",
                "name": "Done",
                "position": {"x": 200, "y": 0},
                "config": {
                    "output": {
                        "reply": '"See the returns policy [1]."',
                        "citations": '[{"file_name": "returns.pdf", "text": "30 days", "url": "javascript:x"}]',
                    }
                },
            },
        ],
        "edges": [{"id": "e1", "source": "start", "target": "done"}],
    }
    deployment = make_deployment(workflow=publish(graph))
    client = visitor_client()
    thread_id = new_thread(client, deployment)

    done = read_answer(client, send(client, deployment, thread_id, "returns?").json()["stream_url"])[-1][2]

    assert done["content"] == "See the returns policy [1]."
    assert done["citations"] == [{"title": "returns.pdf", "url": "", "text": "30 days"}]
