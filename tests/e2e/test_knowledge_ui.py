"""Knowledge page: create a knowledge base, drop files on it (a progress bar per file for the upload, then
for its indexing as the server streams it over /ws/knowledge-bases/<id>/), see them become ready, re-index
after an embedding change with the bars moving again, and try a query that shows the ranked chunks."""

import json

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.fixtures_screens"]

REFUNDS = b"# Refunds\nRefunds are paid back to the original card within five business days.\n"
PARKING = b"# Parking\nVisitors park in the basement garage next to the lifts.\n"


def drop_files(page, selector: str, files: list[tuple[str, str, bytes]]) -> None:
    """Drags files onto an element the way a browser does: a drop event whose DataTransfer holds them."""
    payload = [{"name": n, "type": t, "data": list(d)} for n, t, d in files]
    transfer = page.evaluate_handle(
        """(files) => {
            const dt = new DataTransfer();
            for (const f of files) dt.items.add(new File([new Uint8Array(f.data)], f.name, {type: f.type}));
            return dt;
        }""",
        payload,
    )
    page.dispatch_event(selector, "dragover", {"dataTransfer": transfer})
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


WATCH_BARS = """() => {
    // Every indexing bar the page renders, with each value it shows (they can be on screen briefly).
    window.__bars = [];
    const seen = (el) => window.__bars.push([el.getAttribute("aria-label"), el.value]);
    new MutationObserver((records) => {
        for (const r of records) {
            if (r.type === "attributes" && r.target.matches?.('progress[aria-label^="Indexing of"]')) seen(r.target);
            for (const n of r.addedNodes) {
                if (n.nodeType !== 1) continue;
                if (n.matches('progress[aria-label^="Indexing of"]')) seen(n);
                n.querySelectorAll?.('progress[aria-label^="Indexing of"]').forEach(seen);
            }
        }
    }).observe(document.body, {subtree: true, childList: true, attributes: true, attributeFilter: ["value"]});
}"""


def progress_frames(page) -> list[dict]:
    """Records the file.progress frames the page's knowledge socket receives."""
    frames: list[dict] = []

    def on_socket(ws):
        if "/ws/knowledge-bases/" in ws.url:
            ws.on("framereceived", lambda payload: frames.append(json.loads(payload)))

    page.on("websocket", on_socket)
    return frames


def statuses(frames: list[dict], name: str) -> list[str]:
    return [f["status"] for f in frames if f.get("type") == "file.progress" and f["name"] == name]


def test_files_dropped_on_a_knowledge_base_become_ready_and_a_query_shows_ranked_chunks(page, api, shot):
    frames = progress_frames(page)
    page.goto("/knowledge")
    page.get_by_label("Knowledge base name").fill("Handbook")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name="Handbook")).to_be_visible()

    drop_files(page, ".dropzone", [("refunds.md", "text/markdown", REFUNDS), ("parking.md", "text/markdown", PARKING)])

    uploads = page.get_by_role("list", name="Uploads")
    expect(uploads.get_by_label("Upload of refunds.md")).to_be_visible()
    expect(uploads.get_by_label("Upload of parking.md")).to_be_visible()
    expect(uploads).to_contain_text("uploaded")
    files = page.get_by_role("table", name="Files")
    expect(files.locator("tr", has_text="refunds.md")).to_contain_text("ready", timeout=20_000)
    expect(files.locator("tr", has_text="parking.md")).to_contain_text("ready", timeout=20_000)
    assert page.get_by_label("Upload of refunds.md").evaluate("el => el.value") == 1
    # The statuses came over the WebSocket (the page does not poll): queued, processing, ready.
    for name in ("refunds.md", "parking.md"):
        seen = statuses(frames, name)
        assert seen[0] == "queued" and "processing" in seen and seen[-1] == "ready", (name, seen)

    # Changing the embedding model re-indexes every file, each with its bar moving again.
    page.evaluate(WATCH_BARS)
    kb_id = next(k["id"] for k in api.call("GET", "knowledge-bases") if k["name"] == "Handbook")
    frames.clear()
    api.call("PATCH", f"knowledge-bases/{kb_id}", {"embedding": {"dimensions": 64}})
    expect(files.locator("tr", has_text="refunds.md")).to_contain_text("ready", timeout=20_000)
    expect(files.locator("tr", has_text="parking.md")).to_contain_text("ready", timeout=20_000)
    expect(files.get_by_label("Indexing of refunds.md")).to_have_count(0)
    bars = page.evaluate("window.__bars")
    assert any(label == "Indexing of refunds.md" for label, _ in bars), bars
    assert statuses(frames, "refunds.md")[-1] == "ready"
    assert any(f.get("progress") and 0 < f["progress"] < 1 for f in frames), frames

    page.get_by_placeholder("What does the handbook say about refunds?").fill("when are refunds paid back")
    page.get_by_role("button", name="Search").click()
    results = page.get_by_role("list", name="Results")
    first = results.get_by_role("listitem").first
    expect(first).to_contain_text("refunds.md")
    expect(first).to_contain_text("Refunds are paid back to the original card")
    expect(first.locator("mark").first).to_have_text("Refunds")
    assert float(first.get_by_title("Score").inner_text()) > 0
    shot(page, "60-knowledge-search")


def test_an_unsupported_file_shows_the_reason_next_to_its_progress_bar(page, api):
    page.goto("/knowledge")
    page.get_by_label("Knowledge base name").fill("Odd files")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name="Odd files")).to_be_visible()

    page.get_by_test_id("kb-file-input").set_input_files(
        files=[{"name": "tool.exe", "mimeType": "application/octet-stream", "buffer": b"MZ\x90\x00"}]
    )

    expect(page.get_by_role("list", name="Uploads")).to_contain_text("'tool.exe' is not a supported file type")
    expect(page.get_by_role("heading", name="No files yet")).to_be_visible()


def test_a_file_search_node_feeds_an_agent_and_the_run_detail_shows_the_citations(page, api, shot):
    """The file_search step and the agent's file_search tool call each show the query and the ranked chunks
    (file, score, chunk) in the run detail, linked to the file as uploaded and to the chunk's whole text."""
    from tests.e2e.screens import graph

    kb = api.call("POST", "knowledge-bases", {"name": "Policies e2e"})
    api.call("POST", f"knowledge-bases/{kb['id']}/files", {"name": "refunds.md", "text": REFUNDS.decode()})
    search = {
        "id": "search",
        "type": "file_search",
        "name": "Search policies",
        "config": {"knowledge_base": "Policies e2e", "query": "{{ workflow.input.message }}", "top_k": 3},
    }
    agent = {
        "id": "answer",
        "type": "agent",
        "name": "Answer",
        "config": {
            "model": "gpt-4.1-mini",
            "instructions": "Check the handbook. refunds: {{ nodes.search.output.results[0].text }} "
            "[cite: {{ nodes.search.output.results[0].chunk_id }}]",
            "tools": [{"type": "file_search", "name": "handbook", "knowledge_base": "Policies e2e", "top_k": 2}],
        },
    }
    wf = api.workflow(
        "Policy answers",
        graph(search, agent, end_output={"answer": "nodes.answer.output", "sources": "nodes.search.output.results"}),
    )

    page.goto(f"/workflows/{wf}")
    palette_item = page.get_by_role("button", name="Add File search")
    expect(palette_item).to_be_enabled()
    expect(palette_item).not_to_contain_text("not available")

    for _ in range(100):  # the file is indexed in the background
        if api.call("GET", f"knowledge-bases/{kb['id']}")["files"]["ready"] == 1:
            break
        page.wait_for_timeout(100)
    run = api.call("POST", f"workflows/{wf}/runs", {"input": {"message": "when are refunds paid"}, "version": "draft"})
    api.wait_for(run["id"], {"succeeded"})
    page.goto(f"/runs/{run['id']}")
    output = page.get_by_label("Run output", exact=True)
    expect(output).to_contain_text("Refunds are paid back to the original card")
    expect(output).to_contain_text('"file_name": "refunds.md"')

    timeline = page.get_by_role("list", name="Step timeline")
    timeline.get_by_role("button", name="Search policies").click()
    node_citations = page.get_by_role("region", name="Citations: File search")
    expect(node_citations).to_contain_text("when are refunds paid")
    first = node_citations.get_by_role("listitem").first
    expect(first).to_contain_text("Refunds are paid back to the original card")
    assert float(first.get_by_title("Score").inner_text()) > 0
    link = first.get_by_role("link", name="refunds.md")
    href = link.get_attribute("href")
    assert href.endswith("/content") and kb["id"] in href
    served = page.request.get(href)
    assert served.status == 200 and served.body() == REFUNDS
    shot(page, "61-file-search-run")

    timeline.get_by_role("button", name="Answer").click()
    tool_citations = page.get_by_role("region", name="Citations: Tool handbook")
    expect(tool_citations).to_contain_text("refunds.md")
    tool_citations.get_by_role("button", name="Show chunk").first.click()
    expect(tool_citations.locator(".result-text").first).to_contain_text("Refunds are paid back to the original card")
    expect(tool_citations.get_by_role("button", name="Show chunk")).to_have_count(0)
