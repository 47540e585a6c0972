"""Callbacks of runs started through the API (`callback_url`): signed with the workspace's callback signing
secret (Standard Webhooks), retried with backoff, SSRF-guarded at the request and at every delivery.

These run the real default-mode path: committed rows, dispatch on commit, the in-process executor and the
inline callback timers. The receiver is a local HTTP server, reachable because 127.0.0.1 is allowlisted."""

import json
import logging
import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from accounts.models import CallbackSigningSecret
from runs.models import Run
from runs.services import run_wait
from runs.tests.helpers import shout_graph, wait_for
from runs.triggers import callbacks
from runs.triggers.callbacks import callback_sweep
from runs.triggers.models import Delivery, RunCallback
from trellis import net

pytestmark = pytest.mark.django_db(transaction=True)
pytest_plugins = ["runs.testing.callback_receiver"]  # the receiver_factory fixture

CALLBACK_LOGGER = "runs.triggers.callbacks"


@pytest.fixture
def admin(workspace, member):
    return member(workspace, "admin")


@pytest.fixture
def rotate(client_for, admin, workspace):
    """rotate() -> the new `whsec_` secret, as an admin gets it from the API."""

    def go() -> str:
        res = client_for(admin, workspace).post("/api/v1/workspace/callback-secret/rotate")
        assert res.status_code == 200, res.json()
        return res.json()["secret"]

    return go


def start_run(client, workflow, **body):
    body.setdefault("input", {"message": "call me back"})
    return client.post(f"/api/v1/workflows/{workflow.pk}/runs", body, format="json")


def wait_for_log(caplog, text: str, timeout_s: float = 10) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = [r.getMessage() for r in caplog.records if r.name == CALLBACK_LOGGER and text in r.getMessage()]
        if found:
            return found
        time.sleep(0.02)
    return []


def test_a_run_started_with_a_callback_url_posts_its_result_signed_with_the_workspace_secret(
    make_workflow, client_for, editor, workspace, receiver_factory, rotate
):
    # given
    receiver = receiver_factory()
    secret = rotate()
    workflow = make_workflow(shout_graph())

    # when
    res = start_run(client_for(editor, workspace), workflow, callback_url=receiver.url)
    receiver.wait_for(1)

    # then
    assert res.status_code == 201, res.json()
    run = Run.objects.get()
    assert run.callback_url == receiver.url
    assert secret not in json.dumps(res.json())
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request["headers"]["webhook-id"] == f"run_{run.pk.hex}"
    assert request["headers"]["content-type"] == "application/json"
    payload = Webhook(secret).verify(request["body"], request["headers"])
    assert payload["type"] == "run.finished"
    assert payload["data"] == {
        "run_id": str(run.pk),
        "workflow_id": str(workflow.pk),
        "trigger_id": None,
        "status": "succeeded",
        "output": {"text": "CALL ME BACK"},
        "error": None,
        "started_at": run.started_at.isoformat().replace("+00:00", "Z"),
        "finished_at": run.finished_at.isoformat().replace("+00:00", "Z"),
    }
    assert Delivery.objects.count() == 0  # no trigger, so no trigger delivery log


def test_another_workspaces_secret_does_not_verify_the_callback(
    make_workflow, make_workspace, client_for, editor, workspace, receiver_factory, rotate
):
    from accounts.services import callback_secret_rotate

    receiver = receiver_factory()
    rotate()
    _, other_secret = callback_secret_rotate(workspace=make_workspace(name="Other"))
    workflow = make_workflow(shout_graph())

    start_run(client_for(editor, workspace), workflow, callback_url=receiver.url)
    receiver.wait_for(1)

    assert len(receiver.requests) == 1
    with pytest.raises(WebhookVerificationError):
        Webhook(other_secret).verify(receiver.requests[0]["body"], receiver.requests[0]["headers"])


def test_a_callback_answered_with_500_is_retried_with_the_same_id_until_it_lands(
    make_workflow, client_for, editor, workspace, receiver_factory, rotate, caplog
):
    caplog.set_level(logging.INFO, logger=CALLBACK_LOGGER)
    receiver = receiver_factory(failures=2)
    secret = rotate()
    workflow = make_workflow(shout_graph())

    start_run(client_for(editor, workspace), workflow, callback_url=receiver.url)
    receiver.wait_for(3)

    run = Run.objects.get()
    assert len(receiver.requests) == 3
    assert {r["headers"]["webhook-id"] for r in receiver.requests} == {f"run_{run.pk.hex}"}
    assert Webhook(secret).verify(receiver.requests[-1]["body"], receiver.requests[-1]["headers"])["data"][
        "output"
    ] == {"text": "CALL ME BACK"}
    assert wait_for_log(caplog, "attempt 3 delivered")
    attempts = [r.getMessage() for r in caplog.records if r.name == CALLBACK_LOGGER]
    assert [m.split(": ", 1)[1].split(" (", 1)[0] for m in attempts] == [
        "attempt 1 failed [callback_failed] The callback URL answered 500.",
        "attempt 2 failed [callback_failed] The callback URL answered 500.",
        "attempt 3 delivered",
    ]
    assert all(f"callback of run {run.pk} to 127.0.0.1" in m for m in attempts)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/callback",
        "http://[::1]/callback",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.7/callback",
        "http://2130706433/callback",  # 127.0.0.1 spelled as one number
        "http://[::ffff:127.0.0.1]/callback",
        "http://localhost:8000/callback",
    ],
)
def test_a_callback_url_at_a_blocked_address_literal_is_refused_and_no_run_is_made(
    url, make_workflow, client_for, editor, workspace
):
    workflow = make_workflow(shout_graph())

    res = start_run(client_for(editor, workspace), workflow, callback_url=url)

    assert res.status_code == 400, res.json()
    error = res.json()["error"]
    assert error["code"] == "validation_error"
    assert error["message"].startswith("callback_url: Refusing to connect to ")
    assert error["details"] == [{"field": "callback_url", "message": error["message"].removeprefix("callback_url: ")}]
    assert "TRELLIS_HTTP_ALLOWLIST" in error["message"]
    assert Run.objects.count() == 0


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/callback", "Only http and https URLs are allowed."),
        ("file:///etc/passwd", "Only http and https URLs are allowed."),
        ("example.com/callback", "Only http and https URLs are allowed."),
        ("https:///callback", "The URL has no host."),
        ("https://example.com:99999/", "Not a valid URL (Port out of range 0-65535)."),
        ("https://example.com/a b", "Must not contain spaces or control characters."),
        ("https://example.com/\x07", "Must not contain spaces or control characters."),
        ("https://example.com/" + "a" * 2000, "At most 2000 characters."),
        (42, "Must be a string."),
        (["https://example.com/"], "Must be a string."),
    ],
)
def test_a_malformed_callback_url_is_refused_with_400_and_no_run_is_made(
    url, message, make_workflow, client_for, editor, workspace
):
    workflow = make_workflow(shout_graph())

    res = start_run(client_for(editor, workspace), workflow, callback_url=url)

    assert res.status_code == 400, res.json()
    assert res.json()["error"] == {
        "code": "validation_error",
        "message": f"callback_url: {message}",
        "details": [{"field": "callback_url", "message": message}],
    }
    assert Run.objects.count() == 0


def test_an_allowlisted_address_literal_is_accepted(
    make_workflow, client_for, editor, workspace, settings, monkeypatch
):
    settings.HTTP_ALLOWLIST = ["10.0.0.0/8"]
    monkeypatch.setattr(callbacks, "_wake", lambda run_id, delay_s: None)  # no sender: 10.0.0.7 would time out
    workflow = make_workflow(shout_graph())

    res = start_run(client_for(editor, workspace), workflow, callback_url="http://10.0.0.7/callback")

    assert res.status_code == 201, res.json()
    assert Run.objects.get().callback_url == "http://10.0.0.7/callback"
    assert run_wait(run_id=res.json()["id"], timeout_s=10).status == "succeeded"
    assert RunCallback.objects.get().attempts == 0  # stored with the run's end, due now


def test_a_host_name_that_resolves_to_loopback_is_blocked_at_delivery_logged_and_not_retried(
    make_workflow, client_for, editor, workspace, receiver_factory, monkeypatch, settings, caplog
):
    # given: a receiver that would answer, behind a name that resolves to loopback (not allowlisted)
    caplog.set_level(logging.INFO, logger=CALLBACK_LOGGER)
    receiver = receiver_factory()
    settings.HTTP_ALLOWLIST = []
    real = net._getaddrinfo

    def resolver(host, port):
        return real("127.0.0.1", port) if host == "callbacks.example.test" else real(host, port)

    monkeypatch.setattr(net, "_getaddrinfo", resolver)
    port = receiver.server.server_address[1]
    workflow = make_workflow(shout_graph())

    # when: the name passes the request-time check (no DNS there), the delivery resolves it
    res = start_run(
        client_for(editor, workspace), workflow, callback_url=f"http://callbacks.example.test:{port}/callback"
    )
    assert res.status_code == 201, res.json()
    run = run_wait(run_id=res.json()["id"], timeout_s=10)
    logged = wait_for_log(caplog, "[blocked_url]")
    time.sleep(0.5)  # past the first backoff step: a retry would have happened by now

    # then
    assert run.status == "succeeded"
    assert receiver.requests == []
    assert len(logged) == 1
    assert logged[0].startswith(f"callback of run {run.pk} to callbacks.example.test: attempt 1 failed [blocked_url]")
    assert "loopback address" in logged[0]
    assert len([r for r in caplog.records if r.name == CALLBACK_LOGGER]) == 1


def test_no_callback_is_sent_and_no_secret_made_when_none_was_requested(
    make_workflow, client_for, editor, workspace, receiver_factory, caplog
):
    caplog.set_level(logging.INFO, logger=CALLBACK_LOGGER)
    receiver = receiver_factory()
    workflow = make_workflow(shout_graph())

    res = start_run(client_for(editor, workspace), workflow, wait=10)
    time.sleep(0.3)

    assert res.json()["status"] == "succeeded"
    assert Run.objects.get().callback_url == ""
    assert receiver.requests == []
    assert [r for r in caplog.records if r.name == CALLBACK_LOGGER] == []
    assert not CallbackSigningSecret.objects.exists()


def test_a_first_callback_before_any_admin_made_a_secret_is_signed_with_one_made_then(
    make_workflow, client_for, editor, workspace, receiver_factory
):
    from accounts.services import callback_signing_secrets

    receiver = receiver_factory()
    workflow = make_workflow(shout_graph())
    assert not CallbackSigningSecret.objects.exists()

    start_run(client_for(editor, workspace), workflow, callback_url=receiver.url)
    receiver.wait_for(1)

    assert len(receiver.requests) == 1
    assert CallbackSigningSecret.objects.filter(workspace=workspace).count() == 1
    [made] = callback_signing_secrets(workspace_id=workspace.pk)
    assert made.startswith("whsec_")
    Webhook(made).verify(receiver.requests[0]["body"], receiver.requests[0]["headers"])


def test_after_a_rotation_callbacks_verify_with_the_new_and_until_the_grace_ends_the_previous_secret(
    make_workflow, client_for, editor, workspace, receiver_factory, rotate, settings
):
    receiver = receiver_factory()
    workflow = make_workflow(shout_graph())
    client = client_for(editor, workspace)
    old = rotate()
    new = rotate()

    start_run(client, workflow, callback_url=receiver.url)
    receiver.wait_for(1)
    settings.WEBHOOK_SECRET_GRACE_S = 0
    newest = rotate()  # no grace: `new` stops signing at once
    start_run(client, workflow, callback_url=receiver.url)
    receiver.wait_for(2)

    assert len(receiver.requests) == 2
    during, after = receiver.requests
    assert len(during["headers"]["webhook-signature"].split()) == 2
    Webhook(new).verify(during["body"], during["headers"])
    Webhook(old).verify(during["body"], during["headers"])
    assert after["headers"]["webhook-signature"].count("v1,") == 1
    Webhook(newest).verify(after["body"], after["headers"])
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(after["body"], after["headers"])


def test_a_rerun_does_not_inherit_the_callback_url_unless_it_passes_one(
    make_workflow, client_for, editor, workspace, receiver_factory, rotate
):
    # given: a finished run whose callback landed
    first_receiver, rerun_receiver = receiver_factory(), receiver_factory()
    secret = rotate()
    workflow = make_workflow(shout_graph())
    client = client_for(editor, workspace)
    first = start_run(client, workflow, callback_url=first_receiver.url, wait=10).json()
    first_receiver.wait_for(1)

    # when: a plain rerun, then a rerun with its own callback_url
    plain = client.post(f"/api/v1/runs/{first['id']}/rerun", {"wait": 10}, format="json")
    called = client.post(
        f"/api/v1/runs/{first['id']}/rerun", {"wait": 10, "callback_url": rerun_receiver.url}, format="json"
    )
    rerun_receiver.wait_for(1)
    time.sleep(0.3)

    # then
    assert plain.status_code == 201 and called.status_code == 201
    assert Run.objects.get(pk=plain.json()["id"]).callback_url == ""
    assert Run.objects.get(pk=called.json()["id"]).callback_url == rerun_receiver.url
    assert len(first_receiver.requests) == 1  # only the first run's own callback
    assert len(rerun_receiver.requests) == 1
    payload = Webhook(secret).verify(rerun_receiver.requests[0]["body"], rerun_receiver.requests[0]["headers"])
    assert payload["data"]["run_id"] == called.json()["id"]


def test_a_rerun_from_a_step_with_a_blocked_callback_url_is_refused_and_no_run_is_made(
    make_workflow, client_for, editor, workspace
):
    workflow = make_workflow(shout_graph())
    client = client_for(editor, workspace)
    first = start_run(client, workflow, wait=10).json()
    end_step = first["steps"][-1]

    res = client.post(
        f"/api/v1/runs/{first['id']}/rerun",
        {"from_step": end_step["id"], "callback_url": "http://169.254.169.254/"},
        format="json",
    )

    assert res.status_code == 400
    assert res.json()["error"]["details"][0]["field"] == "callback_url"
    assert Run.objects.count() == 1


def test_the_celery_task_delivers_an_api_runs_callback_with_backoff(
    make_workflow, workspace, receiver_factory, settings
):
    from accounts.services import callback_secret_rotate
    from runs.triggers.tasks import send_callback

    receiver = receiver_factory(failures=1)
    _, secret = callback_secret_rotate(workspace=workspace)
    run = finished_run(workspace, make_workflow(shout_graph()), receiver.url)
    settings.CELERY_TASK_ALWAYS_EAGER = True

    send_callback.apply(args=[str(run.pk)])

    assert len(receiver.requests) == 2
    payload = Webhook(secret).verify(receiver.requests[-1]["body"], receiver.requests[-1]["headers"])
    assert payload["data"]["output"] == {"text": "DONE"}
    assert payload["data"]["trigger_id"] is None


# Durable delivery state: the RunCallback row, the scheduler's due-pass, the run detail.


def finished_run(workspace, workflow, url: str) -> Run:
    return Run.objects.create(
        workspace=workspace,
        workflow=workflow,
        graph={},
        status="succeeded",
        output={"text": "DONE"},
        trigger={"type": "api"},
        callback_url=url,
    )


def stored_attempt(run: Run, *, attempts: int, due_s_ago: float = 5) -> RunCallback:
    """The row a process leaves behind when it stops with an attempt due (no timer survives it)."""
    return RunCallback.objects.create(
        run=run,
        attempts=attempts,
        next_attempt_at=timezone.now() - timedelta(seconds=due_s_ago),
        last_status_code=500 if attempts else None,
        last_error="The callback URL answered 500." if attempts else "",
    )


def test_a_failed_attempt_is_stored_with_the_time_of_the_next_one(
    make_workflow, client_for, editor, workspace, receiver_factory, rotate, settings
):
    # given: a receiver that keeps failing, and a first backoff step long enough to look at
    receiver = receiver_factory(failures=100)
    settings.CALLBACK_BACKOFF_S = [600.0, 900.0]
    rotate()
    workflow = make_workflow(shout_graph())

    # when
    res = start_run(client_for(editor, workspace), workflow, callback_url=receiver.url)
    receiver.wait_for(1)
    # a claimed attempt counts before it is sent: wait for its outcome to be recorded
    recorded = RunCallback.objects.filter(run_id=res.json()["id"], attempts=1, last_status_code__isnull=False)
    row = wait_for(lambda: recorded.first())

    # then
    assert len(receiver.requests) == 1
    assert row is not None
    assert row.state == "pending"
    assert row.last_status_code == 500
    assert row.last_error == "The callback URL answered 500."
    assert row.next_attempt_at == row.updated_at + timedelta(seconds=600)


def test_after_a_restart_the_schedulers_due_pass_sends_the_stored_attempt(
    make_workflow, workspace, receiver_factory, rotate
):
    # given: attempt 1 failed before the restart, attempt 2 is due; no timer is alive for it
    receiver = receiver_factory()
    secret = rotate()
    run = finished_run(workspace, make_workflow(shout_graph()), receiver.url)
    stored_attempt(run, attempts=1)

    # when: the scheduler thread's pass
    woken = callback_sweep()
    receiver.wait_for(1)
    row = wait_for(lambda: RunCallback.objects.filter(run=run, state="delivered").first())

    # then
    assert woken == 1
    assert len(receiver.requests) == 1
    assert receiver.requests[0]["headers"]["webhook-id"] == f"run_{run.pk.hex}"
    assert Webhook(secret).verify(receiver.requests[0]["body"], receiver.requests[0]["headers"])["data"]["output"] == {
        "text": "DONE"
    }
    assert (row.attempts, row.last_status_code, row.last_error, row.next_attempt_at) == (2, 200, "", None)


def test_the_first_attempt_is_stored_with_the_runs_end_so_a_crash_after_the_commit_loses_nothing(
    make_workflow, client_for, editor, workspace, receiver_factory, rotate, monkeypatch
):
    # given: the process "dies" right after the run's final commit (the sender it wakes never runs)
    receiver = receiver_factory()
    rotate()
    monkeypatch.setattr(callbacks, "_wake", lambda run_id, delay_s: None)
    res = start_run(client_for(editor, workspace), make_workflow(shout_graph()), callback_url=receiver.url)
    run = run_wait(run_id=res.json()["id"], timeout_s=10)
    assert run.status == "succeeded"
    row = RunCallback.objects.get(run=run)
    assert (row.state, row.attempts) == ("pending", 0)
    assert receiver.requests == []

    # when: after the restart, the scheduler's due-pass
    monkeypatch.undo()
    callback_sweep()
    receiver.wait_for(1)

    # then
    assert wait_for(lambda: RunCallback.objects.filter(run=run, state="delivered").first()).attempts == 1


def test_two_concurrent_due_passes_send_each_stored_attempt_once(make_workflow, workspace, receiver_factory, rotate):
    # given: five runs with an attempt due
    receiver = receiver_factory()
    rotate()
    workflow = make_workflow(shout_graph())
    runs = [finished_run(workspace, workflow, receiver.url) for _ in range(5)]
    for run in runs:
        stored_attempt(run, attempts=0)
    barrier = threading.Barrier(2)
    sent: list[int] = []

    def due_pass():
        try:
            barrier.wait()
            sent.append(callbacks.callback_send_due(wake=lambda run_id, delay_s: None))
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=due_pass) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    # then
    assert sum(sent) == 5
    ids = sorted(r["headers"]["webhook-id"] for r in receiver.requests)
    assert ids == sorted(f"run_{run.pk.hex}" for run in runs)
    assert list(RunCallback.objects.values_list("state", "attempts").distinct()) == [("delivered", 1)]


def test_a_repeated_or_early_celery_message_sends_nothing(make_workflow, workspace, receiver_factory, settings):
    from runs.triggers.tasks import send_callback

    receiver = receiver_factory()
    run = finished_run(workspace, make_workflow(shout_graph()), receiver.url)
    row = stored_attempt(run, attempts=1, due_s_ago=-60)  # attempt 2 is due in a minute
    settings.CELERY_TASK_ALWAYS_EAGER = True

    send_callback.apply(args=[str(run.pk)])

    assert receiver.requests == []
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("pending", 1)


def test_a_last_attempt_whose_sender_stopped_is_given_up_not_sent_again(make_workflow, workspace, receiver_factory):
    # given: the last attempt (4 with three backoff steps) was claimed, then its process stopped; the lease ran out
    receiver = receiver_factory()
    run = finished_run(workspace, make_workflow(shout_graph()), receiver.url)
    stored_attempt(run, attempts=4)

    # when
    sent = callbacks.callback_send_due(wake=lambda run_id, delay_s: None)

    # then
    assert sent == 0
    assert receiver.requests == []
    row = RunCallback.objects.get(run=run)
    assert (row.state, row.attempts, row.next_attempt_at) == ("failed", 4, None)
    assert row.last_error == "The last attempt's outcome was lost: its process stopped while sending."


def test_the_run_detail_shows_the_callbacks_state_without_the_urls_query(
    make_workflow, client_for, editor, workspace, receiver_factory, rotate
):
    # given: a callback URL that carries the receiver's token in its query, answered 500 once
    receiver = receiver_factory(failures=1)
    rotate()
    workflow = make_workflow(shout_graph())
    client = client_for(editor, workspace)
    run_id = start_run(client, workflow, callback_url=f"{receiver.url}?token=s3cr3t-t0ken", wait=10).json()["id"]
    receiver.wait_for(2)
    wait_for(lambda: RunCallback.objects.filter(run_id=run_id, state="delivered").exists())

    # when
    res = client.get(f"/api/v1/runs/{run_id}")

    # then
    assert res.status_code == 200
    row = RunCallback.objects.get(run_id=run_id)
    assert res.json()["callback"] == {
        "url": receiver.url,
        "source": "run",
        "state": "delivered",
        "attempts": 2,
        "max_attempts": 4,
        "last_status_code": 200,
        "last_error": None,
        "next_attempt_at": None,
        "updated_at": row.updated_at.isoformat().replace("+00:00", "Z"),
    }
    assert "s3cr3t-t0ken" not in res.content.decode()
    assert receiver.requests[0]["body"]  # the receiver itself was called at the full URL
    assert "whsec_" not in res.content.decode()


def test_the_run_detail_shows_a_pending_attempt_and_no_callback_when_there_is_none(
    make_workflow, client_for, editor, workspace
):
    workflow = make_workflow(shout_graph())
    run = finished_run(workspace, workflow, "https://user:pw@hooks.example.com/in?token=abc#frag")
    stored_attempt(run, attempts=2, due_s_ago=-30)
    plain = finished_run(workspace, workflow, "")
    client = client_for(editor, workspace)

    shown = client.get(f"/api/v1/runs/{run.pk}").json()["callback"]
    none = client.get(f"/api/v1/runs/{plain.pk}").json()["callback"]

    row = RunCallback.objects.get(run=run)
    assert shown == {
        "url": "https://hooks.example.com/in",
        "source": "run",
        "state": "pending",
        "attempts": 2,
        "max_attempts": len(settings.CALLBACK_BACKOFF_S) + 1,
        "last_status_code": 500,
        "last_error": "The callback URL answered 500.",
        "next_attempt_at": row.next_attempt_at.isoformat().replace("+00:00", "Z"),
        "updated_at": row.updated_at.isoformat().replace("+00:00", "Z"),
    }
    assert none is None


def test_an_attempts_error_never_quotes_the_urls_query_or_credentials():
    url = "https://user:pw@hooks.example.com:8443/in?token=abc123#frag"

    scrubbed = callbacks._scrub(f"Redirect to {url} refused; token=abc123 at user:pw@hooks.example.com", url)

    assert scrubbed == "Redirect to https://hooks.example.com:8443/in refused; … at …@hooks.example.com"


def test_the_openapi_schema_documents_the_run_callback(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    callback = schema["components"]["schemas"]["RunOut"]["properties"]["callback"]
    assert callback["nullable"] is True
    assert callback["allOf"] == [{"$ref": "#/components/schemas/CallbackOut"}]
    assert sorted(schema["components"]["schemas"]["CallbackOut"]["properties"]) == [
        "attempts",
        "last_error",
        "last_status_code",
        "max_attempts",
        "next_attempt_at",
        "source",
        "state",
        "updated_at",
        "url",
    ]
