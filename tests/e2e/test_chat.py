"""Issue 17, chat: a visitor talks to a published template in the widget embedded on another origin (streamed
answer, a second turn with history, a reload that keeps the conversation), decides an approval with a button;
a non-allowed origin gets nothing, members access asks for a login, a turned-off chat says so."""

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import expect

from runs.testing.live_server import free_port
from tests.e2e.screens import approval, graph

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.fixtures_screens"]

ROOT = Path(__file__).resolve().parents[2]
CHAT_TEMPLATE = json.loads((ROOT / "builder" / "templates" / "chat-assistant.json").read_text())["graph"]


@contextmanager
def host_site(snippet: str, port: int | None = None):
    """A static page on another loopback port (another origin) that carries the embed snippet."""
    html = (
        "<!doctype html><html><head><title>Shop</title></head><body style='font-family:sans-serif'>"
        "<h1>Acme Shop</h1><p>Our products.</p>" + snippet + "</body></html>"
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port or free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def visitor(browser):
    """A browser context of its own: a visitor with no Trellis session."""
    contexts = []

    def make(**options):
        options.setdefault("viewport", {"width": 1280, "height": 800})
        context = browser.new_context(**options)
        contexts.append(context)
        pg = context.new_page()
        pg.set_default_timeout(20_000)
        return pg

    yield make
    for context in contexts:
        context.close()


def deploy(api, workflow_id: str, **fields) -> dict:
    return api.call("POST", f"workflows/{workflow_id}/deployments", {"title": "Help desk", **fields})


def count_streamed_pieces(frame) -> None:
    """Counts text pieces added to a streaming answer, to tell a streamed answer from one block."""
    frame.locator("#log").evaluate(
        """log => { window.__pieces = 0; new MutationObserver(records => { for (const r of records) {
            for (const n of r.addedNodes) if (n.nodeType === 3 && r.target.closest('.streaming')) window.__pieces++;
        } }).observe(log, {childList: true, subtree: true}); }"""
    )


def test_a_visitor_chats_in_the_widget_embedded_on_another_origin(page, api, visitor, shot, trellis_server):
    wf = api.workflow("Chat assistant", CHAT_TEMPLATE, publish="first")
    port = free_port()
    allowed = f"http://127.0.0.1:{port}"
    deployment = deploy(
        api,
        wf,
        greeting="Hi! Ask me anything about your order.",
        starter_prompts=["Where is my parcel?"],
        allowed_origins=[allowed],
        theme={"color": "#0f766e"},
    )

    with host_site(deployment["embed_snippet"], port) as site:
        pg = visitor()
        pg.goto(site)
        launcher = pg.get_by_role("button", name="Open chat: Help desk")
        expect(launcher).to_be_visible()
        shot(pg, "60-chat-embed-launcher")
        launcher.click()
        frame = pg.frame_locator('iframe[title="Help desk"]')
        expect(frame.get_by_text("Hi! Ask me anything about your order.")).to_be_visible()

        # a streamed answer: text arrives in pieces while the answer is marked as streaming
        count_streamed_pieces(frame)
        frame.get_by_label("Message").fill("[[slow]] tell me a story")
        frame.get_by_label("Message").press("Enter")
        streaming = frame.locator(".msg.assistant.streaming .bubble")
        expect(streaming).to_contain_text("slow slow slow")
        pieces = frame.locator("#log").evaluate("() => window.__pieces")
        assert pieces >= 3, pieces
        shot(pg, "61-chat-embed-streaming")

        # a new conversation, then two turns: the second carries the history
        frame.get_by_role("button", name="New conversation").click()
        frame.get_by_label("Message").fill("where is my parcel?")
        frame.get_by_role("button", name="Send").click()
        expect(frame.locator(".msg.assistant").last).to_have_text("You said: where is my parcel?")
        frame.get_by_label("Message").fill("and my **invoice**?")
        frame.get_by_label("Message").press("Enter")
        expect(frame.locator(".msg.assistant").last).to_have_text("You said: and my invoice?")
        expect(frame.locator(".msg.assistant strong").last).to_have_text("invoice")
        shot(pg, "62-chat-embed-conversation")

        threads = api.call("GET", f"workflows/{wf}/deployments/{deployment['id']}/threads")
        current = next(t for t in threads if t["title"] == "where is my parcel?")
        detail = api.call("GET", f"workflows/{wf}/deployments/{deployment['id']}/threads/{current['id']}")
        second_run = api.call("GET", f"runs/{detail['messages'][3]['run_id']}")
        assert second_run["trigger"]["type"] == "chat"
        assert second_run["input"]["history"] == [
            {"role": "user", "content": "where is my parcel?"},
            {"role": "assistant", "content": "You said: where is my parcel?"},
        ]

        # a reload keeps the conversation
        pg.reload()
        pg.get_by_role("button", name="Open chat: Help desk").click()
        frame = pg.frame_locator('iframe[title="Help desk"]')
        expect(frame.locator(".msg.user")).to_have_text(["where is my parcel?", "and my **invoice**?"])
        expect(frame.locator(".msg.assistant:not(.greeting)")).to_have_count(2)

    # the hosted page itself, on a phone-sized screen
    phone = visitor(viewport={"width": 390, "height": 760})
    phone.goto(f"{trellis_server}/chat/{deployment['public_id']}")
    expect(phone.get_by_role("heading", name="Help desk")).to_be_visible()
    expect(phone.get_by_role("button", name="Where is my parcel?")).to_be_visible()
    shot(phone, "63-chat-page-phone")


def test_the_same_snippet_on_a_site_that_is_not_allowed_shows_nothing(page, api, visitor, trellis_server):
    wf = api.workflow("Chat assistant", CHAT_TEMPLATE, publish="first")
    deployment = deploy(api, wf, allowed_origins=["https://shop.example.com"])
    framed = f'<iframe title="direct" src="{trellis_server}/chat/{deployment["public_id"]}?embed=1"></iframe>'

    with host_site(deployment["embed_snippet"] + framed) as site:
        pg = visitor()
        warnings = []
        pg.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
        pg.goto(site)
        pg.wait_for_function("() => true")
        expect(pg.get_by_role("heading", name="Acme Shop")).to_be_visible()
        pg.wait_for_timeout(1500)

        # the script mounts nothing: the server does not share the config with this origin
        assert pg.locator("[data-trellis-chat]").count() == 0
        assert any("not allowed to embed chat" in w for w in warnings), warnings
        # and a hand-made iframe of the page is refused (server) and blocked (frame-ancestors)
        frame = pg.frame(url=lambda url: "/chat/" in url)
        content = frame.content() if frame is not None else ""
        assert "Help desk" not in content
        assert "Write a message" not in content


def test_members_access_asks_for_a_login(page, api, visitor, trellis_server):
    wf = api.workflow("Chat assistant", CHAT_TEMPLATE, publish="first")
    deployment = deploy(api, wf, access="members")

    pg = visitor()
    pg.goto(f"{trellis_server}/chat/{deployment['public_id']}")

    pg.wait_for_url(f"**/accounts/login/?next=/chat/{deployment['public_id']}")
    expect(pg.get_by_label("Email")).to_be_visible()
    # a signed-in member gets the chat
    page.goto(f"/chat/{deployment['public_id']}")
    expect(page.get_by_role("heading", name="Help desk")).to_be_visible()


def test_a_turned_off_deployment_says_so(page, api, visitor, trellis_server, shot):
    wf = api.workflow("Chat assistant", CHAT_TEMPLATE, publish="first")
    deployment = deploy(api, wf)
    api.call("PATCH", f"workflows/{wf}/deployments/{deployment['id']}", {"enabled": False})

    pg = visitor()
    pg.goto(f"{trellis_server}/chat/{deployment['public_id']}")

    expect(pg.get_by_role("heading", name="This chat is turned off.")).to_be_visible()
    expect(pg.get_by_label("Message")).to_have_count(0)
    shot(pg, "64-chat-turned-off")


def test_a_visitor_approves_with_a_button_in_the_chat(page, api, visitor, trellis_server, shot):
    review = approval("confirm", "Send a refund for {{ workflow.input.message }}?")
    review["config"]["approvers"] = "visitor"
    g = graph(review, end_output={"reply": '"Refund sent."'})
    wf = api.workflow("Refunds", g, publish="first")
    deployment = deploy(api, wf, title="Refunds")

    pg = visitor()
    pg.goto(f"{trellis_server}/chat/{deployment['public_id']}")
    pg.get_by_label("Message").fill("order 42")
    pg.get_by_label("Message").press("Enter")

    expect(pg.get_by_text("Send a refund for order 42?")).to_be_visible()
    shot(pg, "65-chat-approval")
    pg.get_by_role("button", name="Approve").click()
    expect(pg.locator(".msg.assistant").last).to_have_text("Refund sent.")
    expect(pg.get_by_role("button", name="Approve")).to_have_count(0)


def test_the_deploy_tab_creates_a_chat_shows_its_url_and_snippet_and_turns_it_off(page, api, visitor, shot):
    wf = api.workflow("Chat assistant", CHAT_TEMPLATE, publish="first")

    page.goto(f"/workflows/{wf}/runs")
    page.get_by_role("navigation", name="Workflow").get_by_role("link", name="Deploy").click()
    expect(page.get_by_role("heading", name="No chats yet")).to_be_visible()
    form = page.get_by_role("form", name="Create a chat deployment")
    form.get_by_label("Title").fill("Support")
    form.get_by_label("Greeting").fill("Hello there!")
    form.get_by_label("Sites allowed to embed it (one origin per line)").fill("https://shop.example.com")
    form.get_by_role("button", name="Create chat").click()

    card = page.get_by_role("article", name="Chat Support")
    url = card.get_by_label("Chat URL").inner_text()
    snippet = card.get_by_label("Embed snippet").inner_text()
    public_id = url.rsplit("/", 1)[1]
    assert url.startswith("http://127.0.0.1:") and f"/chat/{public_id}" in url
    assert snippet.endswith(f'/chat/embed.js" data-deployment="{public_id}" async></script>')
    expect(card).to_contain_text("Embeddable on: https://shop.example.com")
    shot(page, "66-deploy-tab")

    visitor_page = visitor()
    visitor_page.goto(url)
    expect(visitor_page.get_by_text("Hello there!")).to_be_visible()
    visitor_page.get_by_label("Message").fill("hi")
    visitor_page.get_by_label("Message").press("Enter")
    expect(visitor_page.locator(".msg.assistant").last).to_have_text("You said: hi")

    # the conversation is listed with a link to its run
    card.get_by_role("button", name="Conversations").click()
    card.get_by_role("table", name="Conversations").get_by_role("button", name="hi").click()
    transcript = card.get_by_role("list", name="Conversation")
    expect(transcript).to_contain_text("You said: hi")
    expect(transcript.get_by_role("link", name="run")).to_have_count(1)

    card.get_by_role("button", name="Turn off").click()
    expect(card.locator(".chip").first).to_have_text("off")
    visitor_page.reload()
    expect(visitor_page.get_by_role("heading", name="This chat is turned off.")).to_be_visible()


def test_a_visitor_over_the_rate_limit_is_told_politely(page, api, visitor, trellis_server, shot):
    wf = api.workflow("Chat assistant", CHAT_TEMPLATE, publish="first")
    deployment = deploy(api, wf, visitor_rate_limit_per_minute=1)

    pg = visitor()
    pg.goto(f"{trellis_server}/chat/{deployment['public_id']}")
    pg.get_by_label("Message").fill("one")
    pg.get_by_label("Message").press("Enter")
    expect(pg.locator(".msg.assistant").last).to_have_text("You said: one")
    pg.get_by_role("button", name="New conversation").click()
    pg.get_by_label("Message").fill("two")
    pg.get_by_label("Message").press("Enter")

    expect(pg.get_by_role("status")).to_contain_text("Too many messages from you right now. Please wait")
    expect(pg.get_by_label("Message")).to_have_value("two")  # kept, to send again later
    expect(pg.locator(".msg.user")).to_have_count(0)
    shot(pg, "67-chat-rate-limited")
