"""The OpenAI-compatible API served straight on ASGI answers exactly as it does through Django's handler
and middleware: same status, headers and body, errors included."""

import asyncio
import json

import pytest

from accounts.services import api_token_create
from trellis.asgi import application, django_asgi_app


def _call(app, method: str, path: str, body: bytes = b"", headers: list | None = None) -> tuple[int, list, bytes]:
    sent: list[dict] = []

    async def go():
        done = asyncio.Event()
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive():
            if messages:
                return messages.pop(0)
            await done.wait()  # the client stays connected until the answer is complete
            return {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                done.set()

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), *(headers or [])],
            "client": ("127.0.0.1", 5000),
            "server": ("testserver", 80),
        }
        await app(scope, receive, send)

    asyncio.run(go())
    start = sent[0]
    content = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], sorted((bytes(k).lower(), bytes(v)) for k, v in start["headers"]), content


def _both(method: str, path: str, body: dict | bytes | None = None, token: str | None = None, extra=()):
    raw = body if isinstance(body, bytes) else json.dumps(body or {}).encode()
    headers = [*([(b"authorization", f"Bearer {token}".encode())] if token else []), *extra]
    return _call(django_asgi_app, method, path, raw, headers), _call(application, method, path, raw, headers)


def _chat(model: str, **more) -> dict:
    return {"model": model, "messages": [{"role": "user", "content": "hi"}], **more}


@pytest.fixture
def tokens(transactional_db, workspace, editor, viewer, member):
    made = {
        "editor": api_token_create(workspace=workspace, user=editor, name="e")[1],
        "viewer": api_token_create(workspace=workspace, user=viewer, name="v")[1],
    }
    # tokens made while their users were editors: one was removed from the workspace since, one demoted
    removed, demoted = member(workspace, "editor"), member(workspace, "editor")
    made["removed"] = api_token_create(workspace=workspace, user=removed, name="r")[1]
    made["demoted"] = api_token_create(workspace=workspace, user=demoted, name="d")[1]
    workspace.memberships.filter(user=removed).delete()
    workspace.memberships.filter(user=demoted).update(role="viewer")
    return made


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/responses"])
def test_errors_are_the_ones_django_gives(tokens, make_workflow, make_workspace, path):
    # given a workflow here and one in another workspace
    mine = make_workflow()
    theirs = make_workflow(name="Theirs")
    theirs.workspace = make_workspace(name="Other")
    theirs.save(update_fields=["workspace"])
    chat = path.endswith("completions")

    def body(model):
        return _chat(model) if chat else {"model": model, "input": "hi"}

    cases = [
        ("GET", None, None, ()),
        ("POST", body(f"workflow:{mine.pk}"), None, ()),
        ("POST", body(f"workflow:{mine.pk}"), "trl_not-a-token", ()),
        ("POST", b"{not json", tokens["editor"], ()),
        ("POST", [1, 2], tokens["editor"], ()),
        ("POST", {"model": f"workflow:{mine.pk}"}, tokens["editor"], ()),
        ("POST", body("gpt-4o"), tokens["editor"], ()),
        ("POST", body(f"workflow:{mine.pk}@9"), tokens["editor"], ()),
        ("POST", body(f"workflow:{theirs.pk}"), tokens["editor"], ()),
        ("POST", body("workflow:Theirs"), tokens["editor"], ()),
        ("POST", body(f"workflow:{mine.pk}"), tokens["viewer"], ()),
        ("POST", body(f"workflow:{mine.pk}"), tokens["removed"], ()),
        ("POST", body(f"workflow:{mine.pk}"), tokens["demoted"], ()),
        ("POST", body("workflow:nope"), tokens["removed"], ()),
        ("POST", body(f"workflow:{mine.pk}"), tokens["editor"], [(b"x-note", b"a\x00b")]),
    ]
    for method, payload, token, extra in cases:
        raw = json.dumps(payload).encode() if isinstance(payload, list) else payload
        # when the same request goes through Django and through the endpoint
        through_django, direct = _both(method, path, raw, token, extra)

        # then the answers are the same
        assert direct == through_django, (method, payload, token)
        assert direct[0] >= 400
    # and a token acts with its user's role of now: none once removed, a viewer's once demoted
    assert _both("POST", path, body(f"workflow:{mine.pk}"), tokens["removed"])[1][0] == 404
    assert _both("POST", path, body(f"workflow:{mine.pk}"), tokens["demoted"])[1][0] == 403


def test_a_run_answers_with_django_headers_streamed_or_not(tokens, make_workflow):
    # given a published workflow
    flow = make_workflow()

    for stream in (False, True):
        # when it is called through Django and through the endpoint
        through_django, direct = _both(
            "POST", "/v1/chat/completions", _chat(f"workflow:{flow.pk}", stream=stream), tokens["editor"]
        )

        # then both succeed with the same headers and the same reply
        assert direct[0] == through_django[0] == 200
        assert direct[1] == through_django[1]
        if stream:
            texts = [
                "".join(c["delta"].get("content") or "" for c in json.loads(line[6:])["choices"])
                for answer in (through_django, direct)
                for line in answer[2].decode().splitlines()
                if line.startswith("data: {")
            ]
            assert "".join(texts).count("hi") == 2
        else:
            replies = [json.loads(answer[2])["choices"][0]["message"]["content"] for answer in (through_django, direct)]
            assert replies[0] == replies[1]
