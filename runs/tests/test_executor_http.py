"""The http_request executor against a real local server (loopback allowlisted unless a test says not)."""

import base64
import json
import threading

import pytest

from runs.executors.base import NodeError, RunCancelled
from runs.executors.http_request import HttpRequestExecutor
from runs.testing.context import make_node_context

SCOPE = {
    "workflow": {"input": {"customer": "ada", "count": 3}},
    "input": {"ticket": "T-1"},
    "nodes": {},
    "state": {},
}


def run_http(config, **kwargs):
    ctx, recorder = make_node_context("http_request", config, scope=SCOPE, **kwargs)
    return HttpRequestExecutor().run(ctx), recorder


def test_get_with_templated_url_headers_and_query_returns_parsed_json(echo_server, allow_loopback):
    result, _ = run_http(
        {
            "method": "GET",
            "url": echo_server.base_url + "/echo?from={{ workflow.input.customer }}",
            "headers": {"X-Ticket": "{{ input.ticket }}"},
            "query": {"n": "{{ workflow.input.count }}"},
        }
    )

    body = result.output["body"]
    assert result.output["status"] == 200
    assert result.output["headers"]["content-type"] == "application/json"
    assert body["query"] == {"from": "ada", "n": "3"}
    assert body["headers"]["x-ticket"] == "T-1"
    assert "idempotency-key" not in body["headers"]
    assert result.port is None


def test_post_with_an_expression_body_sends_json_and_an_idempotency_key(echo_server, allow_loopback):
    result, _ = run_http(
        {
            "method": "POST",
            "url": echo_server.base_url + "/echo",
            "body": {"who": "workflow.input.customer", "total": "workflow.input.count * 2"},
        }
    )

    [request] = echo_server.requests
    assert json.loads(request["body"]) == {"who": "ada", "total": 6}
    assert request["headers"]["content-type"] == "application/json"
    assert request["headers"]["idempotency-key"] == "run-1:node-1:0"
    assert result.output["body"]["method"] == "POST"


def test_a_template_body_is_sent_as_is(echo_server, allow_loopback):
    run_http(
        {
            "method": "PUT",
            "url": echo_server.base_url + "/echo",
            "headers": {"Content-Type": "text/plain"},
            "body": "hello {{ workflow.input.customer }}",
        }
    )

    assert echo_server.requests[0]["body"] == "hello ada"
    assert echo_server.requests[0]["headers"]["content-type"] == "text/plain"


@pytest.mark.parametrize(
    ("auth", "header", "value"),
    [
        ({"type": "bearer", "secret": "TOKEN"}, "authorization", "Bearer tok-123"),
        ({"type": "header", "secret": "TOKEN", "header": "X-Api-Key"}, "x-api-key", "tok-123"),
        (
            {"type": "basic", "secret": "TOKEN", "username": "ada"},
            "authorization",
            "Basic " + base64.b64encode(b"ada:tok-123").decode(),
        ),
    ],
)
def test_secret_auth(echo_server, allow_loopback, auth, header, value):
    _, recorder = run_http(
        {"method": "GET", "url": echo_server.base_url + "/echo", "auth": auth}, secrets={"TOKEN": "tok-123"}
    )

    assert echo_server.requests[0]["headers"][header] == value
    assert recorder.secrets_used == ["TOKEN"]


def test_a_missing_secret_fails_without_sending(echo_server, allow_loopback):
    with pytest.raises(NodeError, match="No secret named 'NOPE'"):
        run_http({"method": "GET", "url": echo_server.base_url + "/echo", "auth": {"type": "bearer", "secret": "NOPE"}})

    assert echo_server.requests == []


def test_expect_text(echo_server, allow_loopback):
    result, _ = run_http({"method": "GET", "url": echo_server.base_url + "/text", "expect": "text"})

    assert result.output["body"] == "plain words"


def test_a_non_json_body_with_expect_json_is_a_clear_error(echo_server, allow_loopback):
    with pytest.raises(NodeError, match="not JSON"):
        run_http({"method": "GET", "url": echo_server.base_url + "/text"})


@pytest.mark.parametrize(
    ("status", "retryable"), [(400, False), (404, False), (408, True), (429, True), (500, True), (503, True)]
)
def test_error_statuses_fail_retryable_only_for_429_and_5xx(echo_server, allow_loopback, status, retryable):
    with pytest.raises(NodeError) as failed:
        run_http({"method": "GET", "url": f"{echo_server.base_url}/status/{status}"})

    assert failed.value.retryable is retryable
    assert failed.value.code == "http_error"
    assert failed.value.details["status"] == status
    assert failed.value.message == f"GET {echo_server.base_url}/status/{status} answered {status}."
    if status == 429:
        assert failed.value.details["retry_after"] == "2"


def test_loopback_is_refused_by_default(echo_server):
    with pytest.raises(NodeError) as failed:
        run_http({"method": "GET", "url": echo_server.base_url + "/echo"})

    assert failed.value.code == "blocked_url"
    assert failed.value.retryable is False
    assert echo_server.requests == []


def test_a_redirect_to_cloud_metadata_is_refused(echo_server, allow_loopback):
    with pytest.raises(NodeError) as failed:
        run_http({"method": "GET", "url": echo_server.base_url + "/redirect?to=http://169.254.169.254/"})

    assert failed.value.code == "blocked_url"
    assert "Redirect to http://169.254.169.254/ refused" in failed.value.message


def test_response_size_cap(echo_server, allow_loopback, settings):
    settings.HTTP_MAX_RESPONSE_BYTES = 2048

    with pytest.raises(NodeError) as failed:
        run_http({"method": "GET", "url": echo_server.base_url + "/big?bytes=100000&chunked=1", "expect": "text"})

    assert failed.value.code == "response_too_large"
    assert "TRELLIS_HTTP_MAX_RESPONSE_BYTES" in failed.value.message


def test_timeout_is_retryable(echo_server, allow_loopback):
    with pytest.raises(NodeError) as failed:
        run_http({"method": "GET", "url": echo_server.base_url + "/slow?s=10", "timeout_s": 0.3})

    assert failed.value.code == "timeout"
    assert failed.value.retryable is True


def test_connection_refused_is_retryable(allow_loopback):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    with pytest.raises(NodeError) as failed:
        run_http({"method": "GET", "url": f"http://127.0.0.1:{port}/"})

    assert failed.value.code == "connection_error"
    assert failed.value.retryable is True


def test_cancel_interrupts_the_request(echo_server, allow_loopback):
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()

    with pytest.raises(RunCancelled):
        run_http({"method": "GET", "url": echo_server.base_url + "/slow?s=10"}, cancel_event=cancel)


def test_an_unresolvable_host_is_a_retryable_connection_error(monkeypatch):
    import socket

    from trellis import net

    def no_such_host(host, port):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(net, "_getaddrinfo", no_such_host)

    with pytest.raises(NodeError) as failed:
        run_http({"method": "GET", "url": "https://api.does-not-exist.example/"})

    assert (failed.value.code, failed.value.retryable) == ("connection_error", True)
    assert "Could not resolve host 'api.does-not-exist.example'" in failed.value.message
