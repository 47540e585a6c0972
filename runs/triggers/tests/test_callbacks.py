"""Outbound callbacks: signed with Standard Webhooks, retried with backoff, SSRF-guarded."""

import json
import time

from standardwebhooks import Webhook

from runs.models import Run
from runs.tests.helpers import wait_for
from runs.triggers.callbacks import callback_json
from runs.triggers.models import Delivery

pytest_plugins = ["runs.testing.callback_receiver"]  # the receiver_factory fixture


def _callback_log(trigger) -> list[tuple]:
    return list(
        Delivery.objects.filter(trigger=trigger, kind="callback")
        .order_by("id")
        .values_list("attempt", "outcome", "status_code")
    )


def test_a_finished_run_is_posted_signed_and_retried_until_it_lands(http, make_trigger, receiver_factory):
    receiver = receiver_factory(failures=2)
    trigger, secret = make_trigger(auth_mode="none", callback_url=receiver.url)

    response = http.post(f"/hooks/{trigger.key}", json={"message": "call me back"})
    receiver.wait_for(3)

    assert response.status_code == 202
    run = Run.objects.get()
    assert len(receiver.requests) == 3
    ids = {r["headers"]["webhook-id"] for r in receiver.requests}
    assert ids == {f"run_{run.pk.hex}"}  # one id on every attempt: receivers can drop repeats
    last = receiver.requests[-1]
    payload = Webhook(secret).verify(last["body"], last["headers"])
    assert payload["type"] == "run.finished"
    assert payload["data"]["run_id"] == str(run.pk)
    assert payload["data"]["status"] == "succeeded"
    assert payload["data"]["output"]["reply"] == "call me back"
    assert payload["data"]["trigger_id"] == str(trigger.pk)
    deadline = time.monotonic() + 5
    while len(_callback_log(trigger)) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _callback_log(trigger) == [(1, "failed", 500), (2, "failed", 500), (3, "delivered", 200)]


def test_retries_stop_after_the_last_backoff_step(http, make_trigger, receiver_factory):
    receiver = receiver_factory(failures=100)
    trigger, _ = make_trigger(auth_mode="none", callback_url=receiver.url)

    http.post(f"/hooks/{trigger.key}", json={"message": "never lands"})
    receiver.wait_for(4)
    wait_for(lambda: len(_callback_log(trigger)) == 4)  # the last attempt's outcome is recorded
    time.sleep(0.6)  # past another backoff step: a fifth attempt would have been sent by now

    assert len(receiver.requests) == 4  # the first attempt and one per backoff step
    assert [row[1] for row in _callback_log(trigger)] == ["failed"] * 4
    shown = callback_json(Run.objects.get())
    assert (shown["source"], shown["url"], shown["state"], shown["attempts"], shown["max_attempts"]) == (
        "trigger",
        receiver.url,
        "failed",
        4,
        4,
    )
    assert (shown["last_status_code"], shown["last_error"], shown["next_attempt_at"]) == (
        500,
        "The callback URL answered 500.",
        None,
    )


def test_a_callback_to_a_private_address_is_blocked_and_not_retried(http, make_trigger, receiver_factory, settings):
    receiver = receiver_factory()
    trigger, _ = make_trigger(auth_mode="none", callback_url=receiver.url)
    settings.HTTP_ALLOWLIST = []  # the URL was allowed when saved; it is checked again on every send

    http.post(f"/hooks/{trigger.key}", json={"message": "blocked"})
    deadline = time.monotonic() + 10
    while not _callback_log(trigger) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.5)

    assert receiver.requests == []
    log = list(Delivery.objects.filter(trigger=trigger, kind="callback").values_list("outcome", "reason"))
    assert log == [("failed", "blocked_url")]


def test_the_celery_task_retries_with_backoff(transactional_db, make_trigger, receiver_factory, settings):
    from runs.triggers.tasks import send_callback

    receiver = receiver_factory(failures=1)
    trigger, secret = make_trigger(auth_mode="none", callback_url=receiver.url)
    run = Run.objects.create(
        workspace_id=trigger.workspace_id,
        workflow=trigger.workflow,
        graph={},
        status="succeeded",
        output={"reply": "done"},
        trigger={"type": "webhook", "trigger_id": str(trigger.pk)},
    )
    settings.CELERY_TASK_ALWAYS_EAGER = True

    send_callback.apply(args=[str(run.pk)])

    assert len(receiver.requests) == 2
    payload = Webhook(secret).verify(receiver.requests[-1]["body"], receiver.requests[-1]["headers"])
    assert payload["data"]["output"] == {"reply": "done"}
    assert _callback_log(trigger) == [(1, "failed", 500), (2, "delivered", 200)]
    assert json.loads(receiver.requests[0]["body"])["data"] == json.loads(receiver.requests[1]["body"])["data"]


def test_whether_a_trigger_run_calls_back_is_recorded_at_its_start(
    http, make_trigger, receiver_factory, django_assert_num_queries
):
    from runs.triggers.callbacks import has_callback

    receiver = receiver_factory()
    plain, _ = make_trigger(auth_mode="none")
    called, _ = make_trigger(auth_mode="none", callback_url=receiver.url)
    for trigger in (plain, called):
        assert http.post(f"/hooks/{trigger.key}", json={"message": "hi"}).status_code == 202
    runs = {run.trigger["trigger_id"]: run for run in Run.objects.all()}
    without, with_one = runs[str(plain.pk)], runs[str(called.pk)]

    assert (without.trigger["callback"], with_one.trigger["callback"]) == (False, True)
    with django_assert_num_queries(0):  # finishing a run without a callback asks the database nothing
        assert not has_callback(without)
        assert has_callback(with_one)
    receiver.wait_for(1)  # and the one with a callback does call back
