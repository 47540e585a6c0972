"""The grouped webhook ingest (runs/triggers/ingest.py): calls stored together, with the answers of the
full path — a trigger kept per process is never used once its rows changed."""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from runs.models import Run, RunEvent
from runs.triggers import ingest
from runs.triggers.lookup import cached_webhook_trigger
from runs.triggers.models import Delivery, Trigger
from runs.triggers.services import trigger_rotate_secret
from runs.triggers.tests.test_webhooks import BODY, post, signed
from runs.triggers.webhooks import InboundRequest


def inbound(trigger, secret, body: bytes = BODY, *, msg_id: str | None = None) -> InboundRequest:
    headers = signed(secret, body, msg_id=msg_id)
    return InboundRequest(
        key=trigger.key,
        test=False,
        headers={**headers, "content-length": str(len(body))},
        query={},
        content_type="application/json",
        content_length=len(body),
        read_body=lambda _limit: body,
    )


def slow_first_group(monkeypatch) -> list[int]:
    """Makes the first group's write take 0.3 s, so that the calls arriving meanwhile wait for the next
    one; returns the list the size of each group written is appended to."""
    groups, first = [], threading.Event()
    real_insert = ingest._insert

    def slow_first_insert(staged):
        groups.append(len(staged))
        if not first.is_set():
            first.set()
            time.sleep(0.3)
        return real_insert(staged)

    monkeypatch.setattr(ingest, "_insert", slow_first_insert)
    return groups


def outcomes(trigger) -> list[str]:
    return list(Delivery.objects.filter(trigger=trigger).order_by("id").values_list("outcome", flat=True))


def test_a_group_of_calls_is_stored_with_events_and_log_lines_and_dispatched(live_url, make_trigger, monkeypatch):
    trigger, secret = make_trigger()
    dispatched = []
    monkeypatch.setattr(ingest, "dispatch_run", lambda run_id, **_: dispatched.append(run_id))

    answers = ingest.accept_group([inbound(trigger, secret) for _ in range(5)])

    assert all(answer is not None and not answer.duplicate for answer in answers)
    run_ids = {answer.run.pk for answer in answers}
    assert set(Run.objects.values_list("pk", flat=True)) == run_ids == set(dispatched)
    assert RunEvent.objects.filter(run_id__in=run_ids, seq=1, type="run.status").count() == 5
    assert set(Delivery.objects.filter(trigger=trigger).values_list("run_id", "outcome", "status_code")) == {
        (run_id, "accepted", 202) for run_id in run_ids
    }
    run = Run.objects.get(pk=answers[0].run.pk)
    assert run.version_id == trigger.workflow.published_version_id
    assert run.input == {"message": "hello"}
    assert run.trigger["type"] == "webhook" and "webhook-signature" not in run.trigger["headers"]


def test_a_trigger_changed_behind_the_cache_is_never_used_stale(live_url, make_trigger):
    trigger, secret = make_trigger()
    assert cached_webhook_trigger(trigger.key) is not None
    # A write that bypasses save() (no updated_at): the row's fingerprint still changes.
    Trigger.objects.filter(pk=trigger.pk).update(name="renamed")

    [answer] = ingest.accept_group([inbound(trigger, secret)])

    assert answer is ingest.FULL_PATH  # left to webhook_receive, which reads the trigger again
    assert Run.objects.count() == 0 and Delivery.objects.count() == 0
    [answer] = ingest.accept_group([inbound(trigger, secret)])
    assert answer is not None and Run.objects.count() == 1


def test_disabling_a_cached_trigger_takes_effect_at_once(http, make_trigger):
    trigger, secret = make_trigger()
    assert post(http, trigger, headers=signed(secret)).status_code == 202

    Trigger.objects.filter(pk=trigger.pk).update(enabled=False)

    assert post(http, trigger, headers=signed(secret)).status_code == 404
    assert Run.objects.count() == 1
    assert outcomes(trigger) == ["accepted", "rejected"]


def test_a_rotated_secret_is_accepted_although_the_old_trigger_was_cached(http, make_trigger):
    trigger, old = make_trigger()
    assert post(http, trigger, headers=signed(old)).status_code == 202

    _, new = trigger_rotate_secret(trigger=trigger, grace_s=0)

    assert post(http, trigger, headers=signed(new)).status_code == 202
    assert post(http, trigger, headers=signed(old)).status_code == 401
    assert outcomes(trigger) == ["accepted", "accepted", "rejected"]


def test_a_new_published_version_is_used_by_the_next_call(http, make_trigger, workflow):
    from builder.models import WorkflowVersion

    trigger, secret = make_trigger()
    first = post(http, trigger, headers=signed(secret)).json()["run_id"]
    v2 = WorkflowVersion.objects.create(workflow=workflow, number=2, graph=workflow.draft_graph, checksum="1" * 64)
    workflow.published_version = v2
    workflow.save(update_fields=["published_version"])

    second = post(http, trigger, headers=signed(secret)).json()["run_id"]

    assert Run.objects.get(pk=first).version_id != Run.objects.get(pk=second).version_id == v2.pk


def test_a_repeated_webhook_id_in_one_group_makes_one_run(live_url, make_trigger):
    trigger, secret = make_trigger()

    first, repeat = ingest.accept_group([inbound(trigger, secret, msg_id="msg_same") for _ in range(2)])

    assert not first.duplicate and repeat.duplicate
    assert first.run.pk == repeat.run.pk
    assert Run.objects.count() == 1
    assert outcomes(trigger) == ["accepted", "duplicate"]


def test_a_refused_call_is_counted_once_by_the_rate_limit(http, make_trigger):
    trigger, _ = make_trigger(auth_mode="none", rate_limit_per_minute=3)
    json_type = {"content-type": "application/json"}
    if 60 - time.time() % 60 < 3:  # the limit counts per clock minute: stay inside one
        time.sleep(3.1)

    invalid = [post(http, trigger, json.dumps({"count": 1}).encode(), json_type).status_code for _ in range(3)]
    over = post(http, trigger, headers=json_type)

    assert invalid == [422, 422, 422]  # checked and counted once each: the third is still within the limit
    assert over.status_code == 429
    assert Run.objects.count() == 0


def test_calls_that_arrive_together_are_written_together(http, make_trigger, monkeypatch):
    trigger, secret = make_trigger()
    groups = slow_first_group(monkeypatch)
    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(lambda _: post(http, trigger, headers=signed(secret)).status_code, range(20)))

    assert codes == [202] * 20
    assert sum(groups) == 20 and len(groups) < 20
    assert Run.objects.count() == 20


def test_when_a_group_fails_each_call_is_answered_by_the_full_path(http, make_trigger, monkeypatch):
    trigger, secret = make_trigger()

    def broken_insert(staged):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(ingest, "_insert", broken_insert)
    responses = [post(http, trigger, headers=signed(secret)) for _ in range(3)]

    assert [r.status_code for r in responses] == [202] * 3
    assert Run.objects.count() == 3
    assert outcomes(trigger) == ["accepted"] * 3


def test_a_repeat_of_an_accepted_call_gets_its_run_even_if_the_input_would_be_refused_now(http, make_trigger, workflow):
    import copy

    from builder.models import WorkflowVersion

    trigger, secret = make_trigger()
    headers = signed(secret, msg_id="msg_retried")
    first = post(http, trigger, headers=headers)
    strict = copy.deepcopy(workflow.draft_graph)
    strict["nodes"][0]["config"]["input_schema"]["required"] = ["message", "count"]
    v2 = WorkflowVersion.objects.create(workflow=workflow, number=2, graph=strict, checksum="2" * 64)
    workflow.published_version = v2
    workflow.save(update_fields=["published_version"])
    post(http, trigger, headers=signed(secret))  # refused (no count): the trigger is read afresh and cached

    repeat = post(http, trigger, headers=headers)

    assert first.status_code == repeat.status_code == 202
    assert repeat.json()["run_id"] == first.json()["run_id"]
    assert repeat.headers["idempotent-replayed"] == "true"
    assert outcomes(trigger) == ["accepted", "rejected", "duplicate"]


def test_a_group_stops_at_its_byte_budget(http, make_trigger, monkeypatch):
    trigger, secret = make_trigger()
    groups = slow_first_group(monkeypatch)
    monkeypatch.setattr(ingest, "GROUP_MAX_BYTES", len(BODY) * 3)  # three bodies per group at most
    with ThreadPoolExecutor(max_workers=12) as pool:
        codes = list(pool.map(lambda _: post(http, trigger, headers=signed(secret)).status_code, range(12)))

    assert codes == [202] * 12
    assert sum(groups) == 12 and max(groups) == 3


def test_waiting_calls_that_arrive_together_are_written_together_and_each_gets_its_result(
    http, make_trigger, monkeypatch
):
    from runs.triggers import hooks

    trigger, secret = make_trigger()
    groups = slow_first_group(monkeypatch)
    monkeypatch.setattr(hooks, "webhook_receive", None)  # the full path is not taken
    bodies = [json.dumps({"message": f"call {i}"}).encode() for i in range(12)]

    def call(body: bytes):
        return post(http, trigger, body=body, headers=signed(secret, body), query="?wait=20")

    with ThreadPoolExecutor(max_workers=12) as pool:
        responses = list(pool.map(call, bodies))

    assert [r.status_code for r in responses] == [200] * 12
    assert [r.json()["output"]["reply"] for r in responses] == [f"call {i}" for i in range(12)]
    assert sum(groups) == 12 and len(groups) < 12
    assert len({r.json()["run_id"] for r in responses}) == Run.objects.count() == 12


def test_waiting_repeats_of_a_webhook_id_get_the_first_runs_result(http, make_trigger, monkeypatch):
    trigger, secret = make_trigger(response_mode="sync")
    groups = slow_first_group(monkeypatch)
    headers = signed(secret, msg_id="msg_sync_repeat")

    with ThreadPoolExecutor(max_workers=6) as pool:  # repeats in the first run's group and in the next one
        responses = list(pool.map(lambda _: post(http, trigger, headers=headers), range(6)))
    later = post(http, trigger, headers=headers)  # once the run has finished

    run = Run.objects.get()
    for response in [*responses, later]:
        assert response.status_code == 200
        assert response.json() == {"run_id": str(run.pk), "status": "succeeded", "output": run.output, "error": None}
    assert [r.headers.get("idempotent-replayed") for r in [*responses, later]].count("true") == 6
    assert sorted(outcomes(trigger)) == ["accepted"] + ["duplicate"] * 6
    assert len(groups) >= 2


def test_a_bad_wait_is_refused_and_stores_no_run(http, make_trigger):
    trigger, secret = make_trigger()

    responses = [post(http, trigger, headers=signed(secret), query=f"?wait={raw}") for raw in ("soon", "-1", "nan")]

    for response in responses:
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "validation_error"
        assert response.json()["error"]["details"][0]["field"] == "wait"
    assert Run.objects.count() == 0
    # refusals are counted on one line per reason and minute (two lines if the calls straddle a minute)
    lines = list(Delivery.objects.filter(trigger=trigger).values_list("outcome", "reason", "count"))
    assert {(outcome, reason) for outcome, reason, _ in lines} == {("rejected", "validation_error")}
    assert sum(count for _, _, count in lines) == 3
