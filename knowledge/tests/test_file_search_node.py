"""The file_search node: a workflow whose search feeds an agent (the local test model), run through the
runs API; the step in the trace holds the query and the ranked chunks."""

import json
import time

import pytest

from builder.models import Workflow
from knowledge.tests.conftest import settled, upload
from runs.tests.helpers import line, node, start

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def threaded_embeddings(monkeypatch) -> list:
    """A run's searches hold no thread while their query is embedded: no node thread is taken, and the queries
    embedded on a thread (the search API's way) are listed here; a run's searches should leave it empty."""
    from knowledge import selectors
    from runs.engine import steps

    monkeypatch.setattr(steps, "_node_pool", lambda size: pytest.fail("a file_search step took a node thread"))
    embedded_on_a_thread: list = []
    embed_texts = selectors.embed_texts
    monkeypatch.setattr(
        selectors, "embed_texts", lambda kb, texts, *a: embedded_on_a_thread.extend(texts) or embed_texts(kb, texts, *a)
    )
    return embedded_on_a_thread


def search_then_answer(kb_ref: str, **search_config) -> dict:
    return line(
        start({"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}),
        node("search", "file_search", knowledge_base=kb_ref, query="{{ workflow.input.message }}", **search_config),
        node(
            "answer",
            "agent",
            model="gpt-4.1-mini",
            instructions=(
                "Answer from this source: {{ nodes.search.output.results[0].text }} "
                "[cite: {{ nodes.search.output.results[0].file_name }}#{{ nodes.search.output.results[0].chunk_id }}]"
            ),
        ),
        node("done", "end", output={"answer": "nodes.answer.output", "sources": "nodes.search.output.results"}),
    )


def test_a_file_search_node_feeds_an_agent_that_cites_the_top_chunk(
    kb_client, make_kb, workspace, owner, threaded_embeddings
):
    kb = make_kb("Policies")
    refunds = upload(kb_client, kb["id"], "refunds.md", b"# Refunds\nRefunds are paid back within five days.")
    upload(kb_client, kb["id"], "parking.md", b"# Parking\nVisitors park in the basement garage.")
    assert settled(kb_client, kb["id"], refunds.json()["id"])["status"] == "ready"
    workflow = Workflow.objects.create(
        workspace=workspace, name="Ask", draft_graph=search_then_answer("Policies", top_k=2), created_by=owner
    )

    response = kb_client.post(
        f"/api/v1/workflows/{workflow.pk}/runs",
        {"input": {"message": "how fast are refunds paid back"}, "version": "draft", "wait": 20},
        format="json",
    )

    assert response.status_code == 201, response.json()
    run = kb_client.get(f"/api/v1/runs/{response.json()['id']}").json()
    assert run["status"] == "succeeded"
    step = next(s for s in run["steps"] if s["node_id"] == "search")
    assert step["output"]["query"] == "how fast are refunds paid back"
    assert step["output"]["knowledge_base_id"] == kb["id"]  # the run detail links each chunk to its file
    results = step["output"]["results"]
    assert [r["file_name"] for r in results] == ["refunds.md", "parking.md"]
    assert results[0]["text"] == "# Refunds\nRefunds are paid back within five days."
    assert results[0]["metadata"] == {"heading": "Refunds", "ordinal": 0}
    assert results[0]["score"] > results[1]["score"]
    assert threaded_embeddings == []  # the query was embedded on the I/O loop
    # the same ranking as the search API's, which embeds on a thread
    searched = kb_client.post(
        f"/api/v1/knowledge-bases/{kb['id']}/search",
        {"query": "how fast are refunds paid back", "top_k": 2},
        format="json",
    ).json()["results"]
    assert [(r["chunk_id"], r["score"]) for r in searched] == [(r["chunk_id"], r["score"]) for r in results]
    assert threaded_embeddings == ["how fast are refunds paid back"]
    top = results[0]
    assert run["output"]["answer"] == (
        f"You said: Answer from this source: {top['text']} [cite: refunds.md#{top['chunk_id']}]"
    )


def test_a_file_search_node_naming_another_workspaces_knowledge_base_fails_the_step(
    kb_client, make_kb, make_workspace, make_user, client_for, workspace, owner
):
    other_owner = make_user()
    other = make_workspace(name="Other", owner=other_owner)
    foreign = make_kb("Secrets", client=client_for(other_owner, other))
    workflow = Workflow.objects.create(
        workspace=workspace, name="Snoop", draft_graph=search_then_answer(foreign["id"]), created_by=owner
    )

    response = kb_client.post(
        f"/api/v1/workflows/{workflow.pk}/runs",
        {"input": {"message": "salaries"}, "version": "draft", "wait": 20},
        format="json",
    )

    run = kb_client.get(f"/api/v1/runs/{response.json()['id']}").json()
    assert run["status"] == "failed"
    step = next(s for s in run["steps"] if s["node_id"] == "search")
    assert step["error"]["message"] == f"No knowledge base {foreign['id']!r} in this workspace."


def test_an_agent_with_a_file_search_tool_searches_with_its_own_query_and_gets_citable_chunks(
    kb_client, make_kb, workspace, owner, threaded_embeddings
):
    kb = make_kb("Policies")
    refunds = upload(kb_client, kb["id"], "refunds.md", b"# Refunds\nRefunds are paid back within five days.")
    settled(kb_client, kb["id"], refunds.json()["id"])
    tool = {"type": "file_search", "name": "handbook", "knowledge_base": "Policies", "top_k": 1}
    graph = line(
        start({"type": "object", "properties": {"message": {"type": "string"}}}),
        node(
            "answer",
            "agent",
            model="gpt-4.1-mini",
            instructions="Use the handbook: {{ workflow.input.message }}",
            tools=[tool],
        ),
        node("done", "end", output={"answer": "nodes.answer.output"}),
    )
    workflow = Workflow.objects.create(workspace=workspace, name="Agentic", draft_graph=graph, created_by=owner)

    response = kb_client.post(
        f"/api/v1/workflows/{workflow.pk}/runs",
        {"input": {"message": "refunds paid back"}, "version": "draft", "wait": 20},
        format="json",
    )

    run = kb_client.get(f"/api/v1/runs/{response.json()['id']}").json()
    assert run["status"] == "succeeded", run
    assert threaded_embeddings == []  # the tool's query was embedded on the I/O loop
    chunk = kb_client.post(
        f"/api/v1/knowledge-bases/{kb['id']}/search",
        {"query": "Use the handbook: refunds paid back", "top_k": 1},
        format="json",
    ).json()["results"][0]
    cited = {
        "file_id": chunk["file_id"],
        "file_name": "refunds.md",
        "chunk_id": chunk["chunk_id"],
        "score": round(chunk["score"], 4),
        "heading": "Refunds",
        "text": chunk["text"],
    }
    answer = {"query": "Use the handbook: refunds paid back", "knowledge_base_id": kb["id"], "results": [cited]}
    assert run["output"]["answer"] == "The handbook tool returned: " + json.dumps(answer)
    # The trace keeps the call's query and ranked chunks whole, for the run detail's citations.
    step = next(s for s in run["steps"] if s["node_id"] == "answer")
    (call,) = step["usage"]["tool_calls"]
    assert call["name"] == "handbook" and call["query"] == "Use the handbook: refunds paid back"
    assert call["knowledge_base_id"] == kb["id"]
    assert call["citations"] == [
        {
            "file_id": chunk["file_id"],
            "file_name": "refunds.md",
            "chunk_id": chunk["chunk_id"],
            "score": round(chunk["score"], 4),
            "metadata": {"heading": "Refunds"},
            "text": chunk["text"],
        }
    ]
    # A citation's chunk id opens the chunk's text.
    shown = kb_client.get(f"/api/v1/knowledge-bases/{kb['id']}/chunks/{chunk['chunk_id']}").json()
    assert shown["text"] == chunk["text"] and shown["file_name"] == "refunds.md"


def test_a_knowledge_base_lists_the_workflows_that_use_it(kb_client, make_kb, workspace, owner):
    kb = make_kb("Policies")
    other = make_kb("Unused")
    by_name = Workflow.objects.create(
        workspace=workspace, name="By name", draft_graph=search_then_answer("Policies"), created_by=owner
    )
    tool = {"type": "file_search", "name": "handbook", "knowledge_base": kb["id"]}
    by_tool = Workflow.objects.create(
        workspace=workspace,
        name="By tool",
        draft_graph=line(start(), node("answer", "agent", model="m", tools=[tool])),
        created_by=owner,
    )

    listed = {k["name"]: k["used_by"] for k in kb_client.get("/api/v1/knowledge-bases").json()}

    assert listed["Policies"] == [
        {"workflow_id": str(by_name.pk), "workflow_name": "By name", "nodes": ["search"]},
        {"workflow_id": str(by_tool.pk), "workflow_name": "By tool", "nodes": ["answer"]},
    ]
    assert listed["Unused"] == []
    assert kb_client.get(f"/api/v1/knowledge-bases/{other['id']}").json()["used_by"] == []


def test_cancelling_a_run_ends_its_search_waiting_for_the_embedding(kb_client, make_kb, workspace, owner):
    # given a run whose search's embedding call hangs (the local model's `[[hang]]` fault: 30 s)
    kb = make_kb("Policies")
    refunds = upload(kb_client, kb["id"], "refunds.md", b"# Refunds\nRefunds are paid back within five days.")
    settled(kb_client, kb["id"], refunds.json()["id"])
    graph = line(
        start(), node("search", "file_search", knowledge_base="Policies", query="refunds [[hang]]"), node("end", "end")
    )
    workflow = Workflow.objects.create(workspace=workspace, name="Hang", draft_graph=graph, created_by=owner)
    started = kb_client.post(f"/api/v1/workflows/{workflow.pk}/runs", {"input": {}, "version": "draft"}, format="json")
    assert started.status_code == 201, started.json()
    run_id = started.json()["id"]
    deadline = time.monotonic() + 20
    while not any(s["status"] == "running" for s in kb_client.get(f"/api/v1/runs/{run_id}").json()["steps"]):
        assert time.monotonic() < deadline, "the search never started"
        time.sleep(0.05)
    # when it is cancelled
    cancelled_at = time.monotonic()
    assert kb_client.post(f"/api/v1/runs/{run_id}/cancel").status_code == 202
    # then the run ends at once, long before the embedding call would have
    while (run := kb_client.get(f"/api/v1/runs/{run_id}").json())["status"] not in ("cancelled", "failed", "succeeded"):
        assert time.monotonic() - cancelled_at < 5, "the run was still going 5 s after its cancel"
        time.sleep(0.05)
    assert run["status"] == "cancelled"
    assert [s["status"] for s in run["steps"] if s["node_id"] == "search"] == ["cancelled"]
