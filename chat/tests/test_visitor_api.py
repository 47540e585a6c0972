"""The page's own API, called like a browser would on a live server: threads per visitor, messages that
start chat runs, answers streamed as Server-Sent Events (resumable), limits, and what a visitor may see."""

import json
import uuid

import httpx

from chat.models import ChatMessage, ChatThread, ChatVisitor
from chat.tests.conftest import CHAT_HEADERS
from runs.models import Run


def sse_events(response) -> list[tuple[str | None, str, dict]]:
    """(id, event, data) of every event in an SSE body read to its end."""
    out, event_id, kind, data = [], None, None, []
    for line in response.iter_lines():
        if line == "":
            if kind:
                out.append((event_id, kind, json.loads("\n".join(data))))
            event_id, kind, data = None, None, []
        elif line.startswith("id: "):
            event_id = line[4:]
        elif line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])
    return out


def read_answer(client, stream_url: str, headers=None) -> list[tuple[str | None, str, dict]]:
    with client.stream("GET", stream_url, headers=headers or {}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return sse_events(response)


def api(deployment) -> str:
    return f"/chat/{deployment.public_id}/api"


def new_thread(client, deployment) -> str:
    response = client.post(f"{api(deployment)}/threads")
    assert response.status_code == 201, response.text
    return response.json()["id"]


def send(client, deployment, thread_id: str, text: str):
    return client.post(f"{api(deployment)}/threads/{thread_id}/messages", json={"message": text})


def test_a_message_starts_a_chat_run_and_its_answer_streams_token_by_token(chat_model, deployment, visitor_client):
    client = visitor_client()
    thread_id = new_thread(client, deployment)

    # The test model pauses between words, so the stream is read while the answer is being written (on a busy
    # machine the stream could otherwise start after the last word and get the answer in one piece).
    chat_model.httpd.word_delay_s = 0.05
    question = "where is my parcel?"
    sent = send(client, deployment, thread_id, question)

    assert sent.status_code == 202
    body = sent.json()
    assert body["question"]["content"] == question
    assert body["answer"]["status"] == "pending"
    events = read_answer(client, body["stream_url"])
    tokens = [data["text"] for _, kind, data in events if kind == "token"]
    assert len(tokens) > 1  # streamed in pieces, not in one block
    assert "".join(tokens) == f"You said: {question}"
    assert [int(i) for i, kind, _ in events if kind == "token"] == [
        len("".join(tokens[: n + 1])) for n in range(len(tokens))
    ]
    done = events[-1]
    assert done[1] == "done"
    assert done[2]["status"] == "done"
    assert done[2]["content"] == f"You said: {question}"
    assert done[2]["html"] == f"<p>You said: {question}</p>\n"
    run = Run.objects.get()
    assert run.trigger["type"] == "chat"
    assert run.trigger["thread_id"] == thread_id
    assert run.version_id == deployment.workflow.published_version_id
    assert run.input == {"message": question, "history": [], "thread_id": thread_id}


def test_the_second_turn_carries_the_history_of_the_thread(chat_model, deployment, visitor_client):
    client = visitor_client()
    thread_id = new_thread(client, deployment)
    first = send(client, deployment, thread_id, "hello").json()
    read_answer(client, first["stream_url"])

    second = send(client, deployment, thread_id, "and again").json()
    events = read_answer(client, second["stream_url"])

    assert events[-1][2]["content"] == "You said: and again"
    run = Run.objects.order_by("-created_at").first()
    assert run.input["history"] == [
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": "You said: hello"},
    ]
    thread = client.get(f"{api(deployment)}/threads/{thread_id}").json()
    assert [(m["role"], m["content"]) for m in thread["messages"]] == [
        ("user", "hello"),
        ("assistant", "You said: hello"),
        ("user", "and again"),
        ("assistant", "You said: and again"),
    ]
    assert thread["title"] == "hello"


def test_a_dropped_stream_resumes_from_its_last_event_id_without_losing_or_repeating_tokens(
    chat_model, deployment, visitor_client
):
    client = visitor_client()
    thread_id = new_thread(client, deployment)
    sent = send(client, deployment, thread_id, "[[slow]] tell me a story").json()

    # given a stream read for a few tokens and then dropped
    seen, last_id = "", None
    with client.stream("GET", sent["stream_url"]) as response:
        kind = None
        for line in response.iter_lines():
            if line.startswith("id: "):
                last_id = line[4:]
            elif line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: ") and kind == "token":
                seen += json.loads(line[6:])["text"]
                if len(seen) > 40:
                    break
    assert last_id == str(len(seen))

    # when the browser reconnects with Last-Event-ID
    events = read_answer(client, sent["stream_url"], headers={"Last-Event-ID": last_id})

    # then the rest follows on exactly from there
    rest = "".join(data["text"] for _, kind, data in events if kind == "token")
    final = events[-1][2]["content"]
    assert final == " ".join(["slow"] * 300)
    assert seen + rest == final


def test_a_visitor_cannot_read_or_write_another_visitors_thread(chat_model, deployment, visitor_client):
    alice, mallory = visitor_client(), visitor_client()
    thread_id = new_thread(alice, deployment)
    sent = send(alice, deployment, thread_id, "my secret order 123").json()
    read_answer(alice, sent["stream_url"])
    new_thread(mallory, deployment)

    read = mallory.get(f"{api(deployment)}/threads/{thread_id}")
    stream = mallory.get(sent["stream_url"])
    write = send(mallory, deployment, thread_id, "hi")
    listed = mallory.get(f"{api(deployment)}/threads")

    assert (read.status_code, stream.status_code, write.status_code) == (404, 404, 404)
    assert read.json()["error"]["code"] == "not_found"
    assert [t["id"] for t in listed.json()["threads"]] != [thread_id]
    assert thread_id not in listed.text
    assert ChatMessage.objects.filter(thread_id=thread_id).count() == 2
    assert Run.objects.count() == 1


def test_a_visitor_without_a_cookie_or_with_a_forged_one_sees_no_thread(
    chat_model, deployment, visitor_client, live_url
):
    alice = visitor_client()
    thread_id = new_thread(alice, deployment)
    visitor = ChatVisitor.objects.get()

    with httpx.Client(base_url=live_url, headers=CHAT_HEADERS) as anonymous:
        no_cookie = anonymous.get(f"{api(deployment)}/threads/{thread_id}")
        anonymous.cookies.set("trellis_chat", f'{{"v": "{visitor.pk}"}}', path=f"/chat/{deployment.public_id}")
        forged = anonymous.get(f"{api(deployment)}/threads/{thread_id}")

    assert (no_cookie.status_code, forged.status_code) == (404, 404)


def test_a_visitors_cookie_is_httponly_signed_and_scoped_to_the_deployment(deployment, visitor_client):
    client = visitor_client()

    response = client.post(f"{api(deployment)}/threads")

    cookie = response.headers["set-cookie"]
    assert cookie.startswith("trellis_chat=")
    assert "HttpOnly" in cookie
    assert f"Path=/chat/{deployment.public_id}" in cookie
    assert "SameSite=Lax" in cookie
    assert str(ChatVisitor.objects.get().pk) not in cookie.split(";")[0].split(":")[0]  # signed, not a bare id


def test_thread_ids_are_random_uuid4s(deployment, visitor_client):
    client = visitor_client()

    ids = [uuid.UUID(new_thread(client, deployment)) for _ in range(5)]

    assert {i.version for i in ids} == {4}
    assert len(set(ids)) == 5
    assert sorted(ids) != ids or sorted(ids, reverse=True) != ids  # not a counter
    assert ChatThread.objects.count() == 5


def test_a_visitor_over_their_rate_limit_gets_a_polite_429_and_no_run(chat_model, make_deployment, visitor_client):
    deployment = make_deployment(visitor_rate_limit_per_minute=1)
    client = visitor_client()
    first = send(client, deployment, new_thread(client, deployment), "one").json()
    read_answer(client, first["stream_url"])

    refused = send(client, deployment, new_thread(client, deployment), "two")

    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    error = refused.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["message"].startswith("Too many messages from you right now. Please wait")
    assert Run.objects.count() == 1
    assert ChatMessage.objects.filter(content="two").count() == 0


def test_a_deployment_over_its_rate_limit_refuses_every_visitor(chat_model, make_deployment, visitor_client):
    deployment = make_deployment(rate_limit_per_minute=1)
    alice, bob = visitor_client(), visitor_client()
    first = send(alice, deployment, new_thread(alice, deployment), "one").json()
    read_answer(alice, first["stream_url"])

    refused = send(bob, deployment, new_thread(bob, deployment), "two")

    assert refused.status_code == 429
    assert refused.json()["error"]["message"].startswith("Too many messages from this chat right now.")
    assert Run.objects.count() == 1


def test_a_message_over_the_maximum_length_is_refused(chat_model, make_deployment, visitor_client):
    deployment = make_deployment(max_message_chars=10)
    client = visitor_client()

    refused = send(client, deployment, new_thread(client, deployment), "x" * 11)

    assert refused.status_code == 413
    assert refused.json()["error"]["code"] == "message_too_long"
    assert Run.objects.count() == 0
    assert ChatMessage.objects.count() == 0


def test_a_conversation_stops_at_its_message_cap(chat_model, make_deployment, visitor_client):
    deployment = make_deployment(max_messages_per_thread=1)
    client = visitor_client()
    thread_id = new_thread(client, deployment)
    read_answer(client, send(client, deployment, thread_id, "one").json()["stream_url"])

    refused = send(client, deployment, thread_id, "two")

    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "conversation_limit"
    assert Run.objects.count() == 1


def test_writes_need_the_chat_header_and_the_pages_own_origin(deployment, live_url):
    with httpx.Client(base_url=live_url) as client:
        no_header = client.post(f"{api(deployment)}/threads")
        foreign = client.post(f"{api(deployment)}/threads", headers={**CHAT_HEADERS, "Origin": "https://evil.example"})

    assert (no_header.status_code, foreign.status_code) == (400, 403)
    assert foreign.json()["error"]["code"] == "origin_not_allowed"
    assert ChatThread.objects.count() == 0


def test_a_turned_off_deployment_says_so_and_starts_nothing(deployment, visitor_client):
    client = visitor_client()
    thread_id = new_thread(client, deployment)
    deployment.enabled = False
    deployment.save()

    refused = send(client, deployment, thread_id, "hello")
    page = client.get(f"/chat/{deployment.public_id}")

    assert refused.status_code == 403
    assert refused.json()["error"] == {"code": "chat_disabled", "message": "This chat is turned off.", "details": []}
    assert page.status_code == 403
    assert "This chat is turned off." in page.text
    assert Run.objects.count() == 0


def test_members_access_asks_for_a_login(make_deployment, visitor_client):
    deployment = make_deployment(access="members")
    client = visitor_client()

    page = client.get(f"/chat/{deployment.public_id}")
    api_call = client.post(f"{api(deployment)}/threads")

    assert page.status_code == 302
    assert page.headers["location"] == f"/accounts/login/?next=/chat/{deployment.public_id}"
    assert api_call.status_code == 401
    assert api_call.json()["error"]["code"] == "login_required"
    assert ChatThread.objects.count() == 0


def test_an_unknown_public_id_is_a_404(visitor_client, db):
    client = visitor_client()

    assert client.get("/chat/nope").status_code == 404
    assert client.post("/chat/nope/api/threads").status_code == 404


def test_a_signed_in_member_chats_as_themselves_and_a_non_member_sees_nothing(
    make_deployment, client, viewer, make_user
):
    deployment = make_deployment(access="members")
    client.force_login(viewer)

    page = client.get(f"/chat/{deployment.public_id}")
    created = client.post(f"{api(deployment)}/threads", headers=CHAT_HEADERS)

    assert page.status_code == 200
    assert created.status_code == 201
    assert "set-cookie" not in {k.lower() for k in created.headers}
    assert ChatVisitor.objects.get().user == viewer
    client.force_login(make_user())
    assert client.get(f"/chat/{deployment.public_id}").status_code == 404
    assert client.get(f"{api(deployment)}/threads/{created.json()['id']}").status_code == 404
    assert client.post(f"{api(deployment)}/threads", headers=CHAT_HEADERS).status_code == 404
    assert ChatThread.objects.count() == 1
