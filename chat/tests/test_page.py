"""The hosted page and what it lets out: safe markdown, nothing of the workspace beyond the deployment's
title and greeting and the thread's own messages, and a Content-Security-Policy that matches the embed list."""

import pytest

from chat.markdown import render_markdown
from chat.models import ChatMessage, MessageStatus
from chat.services import thread_create, visitor_create
from chat.tests.test_visitor_api import api, new_thread, read_answer, send


def test_markdown_with_script_tags_and_javascript_links_renders_inert():
    html = render_markdown(
        "**Hi** <script>alert(1)</script> <img src=x onerror=alert(1)> [click](javascript:alert(1)) "
        "[also](JAVASCRIPT:alert(1)) [data](data:text/html;base64,PHNjcmlwdD4=) ![pixel](https://t.example/p.png) "
        "[ok](https://example.com)"
    )

    assert "<script" not in html
    assert "<img" not in html
    assert 'href="javascript' not in html.lower()
    assert 'href="data:' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<strong>Hi</strong>" in html
    assert '<a href="https://example.com" target="_blank" rel="noopener noreferrer nofollow">ok</a>' in html


def test_a_stored_answer_with_html_reaches_the_page_only_as_escaped_text(deployment, visitor_client):
    client = visitor_client()
    thread_id = new_thread(client, deployment)
    ChatMessage.objects.create(
        thread_id=thread_id,
        role="assistant",
        content="<script>document.cookie</script>[x](javascript:alert(1))",
        status=MessageStatus.DONE,
    )

    message = client.get(f"{api(deployment)}/threads/{thread_id}").json()["messages"][0]

    assert message["html"] == "<p>&lt;script&gt;document.cookie&lt;/script&gt;[x](javascript:alert(1))</p>\n"


def test_the_public_page_shows_only_the_title_greeting_and_the_threads_own_messages(
    chat_model, deployment, visitor_client, workspace, owner
):
    client = visitor_client()
    thread_id = new_thread(client, deployment)
    read_answer(client, send(client, deployment, thread_id, "hello").json()["stream_url"])
    other = thread_create(deployment=deployment, visitor=visitor_create(deployment=deployment))
    ChatMessage.objects.create(thread=other, role="user", content="someone else's words")

    page = client.get(f"/chat/{deployment.public_id}")
    thread = client.get(f"{api(deployment)}/threads/{thread_id}").json()
    threads = client.get(f"{api(deployment)}/threads").json()
    leaks = [
        workspace.name,
        workspace.slug,
        str(workspace.pk),
        owner.email,
        deployment.workflow.name,
        str(deployment.workflow.pk),
        str(deployment.pk),
        "someone else's words",
        "gpt-4.1-mini",
        "You are a friendly",
    ]

    assert page.status_code == 200
    assert "Help desk" in page.text and "Hi! Ask me anything." in page.text
    for text in (page.text, str(thread), str(threads)):
        assert [leak for leak in leaks if leak in text] == []
    run_id = str(ChatMessage.objects.get(thread_id=thread_id, role="assistant").run_id)
    assert run_id not in str(thread)
    assert set(thread) == {"id", "title", "messages"}
    assert {key for m in thread["messages"] for key in m} == {
        "id", "role", "content", "html", "status", "citations", "approval", "created_at"
    }  # fmt: skip


def test_the_page_csp_allows_framing_only_by_the_allowed_origins(make_deployment, visitor_client):
    deployment = make_deployment(allowed_origins=["https://shop.example.com"])
    client = visitor_client()

    page = client.get(f"/chat/{deployment.public_id}")

    csp = dict(
        part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";") if part.strip()
    )
    assert csp["frame-ancestors"] == "'self' https://shop.example.com"
    assert csp["script-src"] == "'self'"
    assert csp["default-src"] == "'none'"
    assert "x-frame-options" not in page.headers


@pytest.mark.parametrize(
    ("referer", "status"),
    [("https://shop.example.com/products/1", 200), ("https://evil.example/", 403), (None, 403)],
)
def test_the_page_in_a_frame_answers_only_an_allowed_origin(make_deployment, visitor_client, referer, status):
    deployment = make_deployment(allowed_origins=["https://shop.example.com"])
    headers = {"Sec-Fetch-Dest": "iframe", **({"Referer": referer} if referer else {})}

    page = visitor_client().get(f"/chat/{deployment.public_id}?embed=1", headers=headers)

    assert page.status_code == status
    if status == 403:
        assert "This chat can't be shown on this site." in page.text
        assert "Help desk" not in page.text


def test_the_config_for_the_embed_script_is_shared_only_with_allowed_origins(make_deployment, visitor_client):
    deployment = make_deployment(allowed_origins=["https://shop.example.com"], theme={"color": "#112233"})
    client = visitor_client()

    allowed = client.get(f"{api(deployment)}/config", headers={"Origin": "https://shop.example.com"})
    refused = client.get(f"{api(deployment)}/config", headers={"Origin": "https://evil.example"})

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://shop.example.com"
    assert allowed.json() == {
        "title": "Help desk",
        "color": "#112233",
        "enabled": True,
        "url": f"/chat/{deployment.public_id}",
    }
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers
    assert refused.json()["error"]["code"] == "origin_not_allowed"
