"""POST /hooks/<key> against a live ASGI server and PostgreSQL (DESIGN §7)."""

import base64
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from standardwebhooks import Webhook

from runs.models import Run
from runs.triggers.models import Delivery
from runs.triggers.services import trigger_rotate_secret
from runs.triggers.tests.conftest import make_graph

BODY = json.dumps({"message": "hello"}).encode()
WRONG_SECRET = "whsec_" + base64.b64encode(b"not this trigger's secret, 32 b").decode()


def signed(secret: str, body: bytes = BODY, *, msg_id: str | None = None, ts: int | None = None) -> dict:
    """Headers signed by the Standard Webhooks reference library."""
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    ts = int(time.time()) if ts is None else ts
    signature = Webhook(secret).sign(msg_id, datetime.fromtimestamp(ts, tz=UTC), body.decode())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": signature,
        "content-type": "application/json",
    }


def post(http, trigger, body: bytes = BODY, headers: dict | None = None, *, path: str = "hooks", query: str = ""):
    return http.post(f"/{path}/{trigger.key}{query}", content=body, headers=headers or {})


def _rejections(trigger) -> list[tuple]:
    return list(
        Delivery.objects.filter(trigger=trigger, outcome="rejected").values_list("status_code", "reason").order_by("id")
    )


# --- authentication ---------------------------------------------------------------------------------


def test_a_request_signed_by_the_reference_library_starts_a_run(http, live_url, make_trigger):
    trigger, secret = make_trigger()

    response = post(http, trigger, headers={**signed(secret), "x-order": "A-17"}, query="?source=crm")

    assert response.status_code == 202
    body = response.json()
    run = Run.objects.get()
    assert body == {
        "run_id": str(run.pk),
        "status": "queued",
        "status_url": f"{live_url}/api/v1/runs/{run.pk}",
        "events_url": f"{live_url.replace('http://', 'ws://')}/ws/runs/{run.pk}/",
    }
    assert run.input == {"message": "hello"}
    assert run.trigger["type"] == "webhook"
    assert run.trigger["trigger_id"] == str(trigger.pk)
    assert run.trigger["headers"]["x-order"] == "A-17"
    assert "webhook-signature" not in run.trigger["headers"]
    assert run.trigger["query"] == {"source": "crm"}
    delivery = Delivery.objects.get(trigger=trigger)
    assert (delivery.outcome, delivery.status_code, delivery.run_id) == ("accepted", 202, run.pk)


def test_a_tampered_body_is_refused_and_nothing_is_stored(http, make_trigger):
    trigger, secret = make_trigger()
    headers = signed(secret)

    response = post(http, trigger, body=json.dumps({"message": "hellO"}).encode(), headers=headers)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"
    assert Run.objects.count() == 0
    assert _rejections(trigger) == [(401, "invalid_signature")]


def test_an_expired_signature_is_refused_and_nothing_is_stored(http, make_trigger):
    trigger, secret = make_trigger()

    response = post(http, trigger, headers=signed(secret, ts=int(time.time()) - 6 * 60))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "signature_expired"
    assert Run.objects.count() == 0


def test_a_replayed_signature_with_a_new_timestamp_is_refused(http, make_trigger):
    trigger, secret = make_trigger()
    captured = signed(secret, ts=int(time.time()) - 60)
    replay = {**captured, "webhook-timestamp": str(int(time.time()))}

    response = post(http, trigger, headers=replay)

    assert response.status_code == 401
    assert Run.objects.count() == 0


def test_a_replayed_request_outside_the_tolerance_is_refused(http, make_trigger, settings):
    trigger, secret = make_trigger()
    captured = signed(secret, ts=int(time.time()) - 20)
    settings.WEBHOOK_TOLERANCE_S = 10  # the capture is now older than the tolerance

    response = post(http, trigger, headers=captured)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "signature_expired"
    assert Run.objects.count() == 0


def test_an_unsigned_request_is_refused(http, make_trigger):
    trigger, _ = make_trigger()

    response = post(http, trigger, headers={"content-type": "application/json"})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "missing_signature"
    assert Run.objects.count() == 0


def test_after_rotation_both_secrets_work_during_the_grace_period(http, make_trigger):
    trigger, old = make_trigger()
    trigger, new = trigger_rotate_secret(trigger=trigger, grace_s=3600)
    both = signed(new)
    both["webhook-signature"] += " " + Webhook(old).sign(
        both["webhook-id"], datetime.fromtimestamp(int(both["webhook-timestamp"]), tz=UTC), BODY.decode()
    )

    assert post(http, trigger, headers=signed(old)).status_code == 202
    assert post(http, trigger, headers=signed(new)).status_code == 202
    assert post(http, trigger, headers=both).status_code == 202
    assert Run.objects.count() == 3


def test_after_the_grace_period_the_old_secret_is_refused(http, make_trigger):
    trigger, old = make_trigger()
    trigger, new = trigger_rotate_secret(trigger=trigger, grace_s=0)

    assert post(http, trigger, headers=signed(old)).status_code == 401
    assert post(http, trigger, headers=signed(new)).status_code == 202
    assert Run.objects.count() == 1


def test_bearer_mode_needs_the_secret_as_a_bearer_token(http, make_trigger):
    trigger, secret = make_trigger(auth_mode="bearer")
    json_type = {"content-type": "application/json"}

    wrong = post(http, trigger, headers={**json_type, "authorization": "Bearer whsec_nope"})
    right = post(http, trigger, headers={**json_type, "authorization": f"Bearer {secret}"})

    assert wrong.status_code == 401
    assert right.status_code == 202
    run = Run.objects.get()
    assert "authorization" not in run.trigger["headers"]


def test_none_mode_accepts_unauthenticated_calls(http, make_trigger):
    trigger, _ = make_trigger(auth_mode="none")

    response = post(http, trigger, headers={"content-type": "application/json"})

    assert response.status_code == 202
    assert Run.objects.count() == 1


# --- refusals that leave no run ------------------------------------------------------------------------


def test_an_unknown_key_answers_404(http):
    response = http.post("/hooks/does-not-exist", content=BODY, headers={"content-type": "application/json"})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert Run.objects.count() == 0


def test_a_disabled_trigger_answers_404(http, make_trigger):
    trigger, secret = make_trigger(enabled=False)

    response = post(http, trigger, headers=signed(secret))

    assert response.status_code == 404
    assert Run.objects.count() == 0
    assert _rejections(trigger) == [(404, "not_found")]


def test_a_body_over_the_limit_answers_413(http, make_trigger, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 1024
    trigger, secret = make_trigger(auth_mode="none")
    big = json.dumps({"message": "x" * 2000}).encode()

    declared = post(http, trigger, body=big, headers={"content-type": "application/json"})
    chunked = http.post(
        f"/hooks/{trigger.key}",
        content=(big[i : i + 256] for i in range(0, len(big), 256)),
        headers={"content-type": "application/json"},
    )

    assert declared.status_code == 413
    assert declared.json()["error"]["code"] == "payload_too_large"
    assert chunked.status_code == 413
    assert Run.objects.count() == 0


def test_an_unsupported_content_type_answers_415(http, make_trigger):
    trigger, _ = make_trigger(auth_mode="none")

    response = post(http, trigger, body=b"<message>hi</message>", headers={"content-type": "application/xml"})

    assert response.status_code == 415
    assert Run.objects.count() == 0


def test_input_failing_the_start_schema_answers_422_with_the_paths(http, make_trigger):
    trigger, secret = make_trigger()
    body = json.dumps({"count": "three"}).encode()

    response = post(http, trigger, body=body, headers=signed(secret, body))

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["details"] == [
        {"path": "", "message": "'message' is a required property"},
        {"path": "/count", "message": "'three' is not of type 'integer'"},
    ]
    assert Run.objects.count() == 0
    assert _rejections(trigger) == [(422, "invalid_input")]


def test_invalid_json_answers_400(http, make_trigger):
    trigger, _ = make_trigger(auth_mode="none")

    response = post(http, trigger, body=b"{nope", headers={"content-type": "application/json"})

    assert response.status_code == 400
    assert Run.objects.count() == 0


def test_over_the_rate_limit_answers_429_with_retry_after(http, make_trigger):
    trigger, _ = make_trigger(auth_mode="none", rate_limit_per_minute=2)
    json_type = {"content-type": "application/json"}
    if 60 - time.time() % 60 < 3:  # the limit counts per clock minute: stay inside one
        time.sleep(3.1)

    codes = [post(http, trigger, headers=json_type).status_code for _ in range(3)]
    limited = post(http, trigger, headers=json_type)

    assert codes == [202, 202, 429]
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert Run.objects.count() == 2


def _stay_inside_one_clock_minute(seconds_needed: float = 5) -> None:
    # The rate limit and the refusal lines count per clock minute.
    if 60 - time.time() % 60 < seconds_needed:
        time.sleep(60 - time.time() % 60 + 0.1)


def test_two_hundred_bad_signatures_write_one_delivery_line_that_counts_them(http, make_trigger):
    trigger, secret = make_trigger()
    _stay_inside_one_clock_minute(20)
    bad = signed(WRONG_SECRET)  # a well-formed signature by the wrong secret

    codes = [post(http, trigger, headers=bad).status_code for _ in range(200)]

    assert codes == [401] * 200
    assert Run.objects.count() == 0
    line = Delivery.objects.get(trigger=trigger)
    assert (line.outcome, line.status_code, line.reason, line.count) == ("rejected", 401, "invalid_signature", 200)
    assert line.window_start == line.created_at.replace(second=0, microsecond=0)
    assert line.created_at <= line.last_at
    assert line.message == "No webhook signature matches this trigger's secret."
    # the API shows the count
    listed = trigger_deliveries(trigger)
    assert [(d["reason"], d["count"]) for d in listed] == [("invalid_signature", 200)]


def trigger_deliveries(trigger) -> list[dict]:
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(trigger.workflow.workspace.memberships.get(role="owner").user)
    response = client.get(f"/api/v1/workflows/{trigger.workflow_id}/triggers/{trigger.pk}/deliveries")
    assert response.status_code == 200
    return response.json()


def test_the_rate_limit_counts_refused_calls_before_authenticating(http, make_trigger):
    # given a trigger that accepts 5 calls a minute
    trigger, secret = make_trigger(rate_limit_per_minute=5)
    _stay_inside_one_clock_minute()

    # when 5 calls with a bad signature come, then a correctly signed one
    bad = [post(http, trigger, headers=signed(WRONG_SECRET)).status_code for _ in range(5)]
    good = post(http, trigger, headers=signed(secret))
    unsigned = post(http, trigger, headers={"content-type": "application/json"})

    # then the bad calls used up the limit: the next calls are refused before their signature is checked
    assert bad == [401] * 5
    assert (good.status_code, unsigned.status_code) == (429, 429)
    assert good.json()["error"]["code"] == "rate_limited"
    assert Run.objects.count() == 0
    lines = Delivery.objects.filter(trigger=trigger).order_by("id").values_list("reason", "status_code", "count")
    assert list(lines) == [("invalid_signature", 401, 5), ("rate_limited", 429, 2)]


# --- bodies, sync answers, idempotency ---------------------------------------------------------------


def test_wait_answers_200_with_the_run_output_and_expressions_see_headers_and_query(http, make_trigger):
    trigger, secret = make_trigger()

    response = post(http, trigger, headers={**signed(secret), "X-Order": "A-17"}, query="?wait=20&source=crm")

    assert response.status_code == 200
    run = Run.objects.get()
    assert response.json() == {
        "run_id": str(run.pk),
        "status": "succeeded",
        "output": {"reply": "hello", "trigger_type": "webhook", "order": "A-17", "source": "crm"},
        "error": None,
    }


def test_a_sync_trigger_answers_with_the_result_without_wait(http, make_trigger):
    trigger, secret = make_trigger(response_mode="sync")

    response = post(http, trigger, headers=signed(secret))

    assert response.status_code == 200
    assert response.json()["status"] == "succeeded"
    assert response.json()["output"]["reply"] == "hello"


def test_a_form_body_becomes_the_input(http, make_trigger):
    trigger, _ = make_trigger(auth_mode="none")

    response = post(
        http,
        trigger,
        body=b"message=from+a+form&tag=a&tag=b",
        headers={"content-type": "application/x-www-form-urlencoded"},
        query="?wait=20",
    )

    assert response.status_code == 200
    assert Run.objects.get().input == {"message": "from a form", "tag": ["a", "b"]}
    assert response.json()["output"]["reply"] == "from a form"


def test_a_multipart_form_becomes_the_input_but_files_are_refused(http, make_trigger):
    trigger, _ = make_trigger(auth_mode="none")

    parts = [("message", (None, "multi")), ("tag", (None, "a")), ("tag", (None, "b"))]  # fields, no file name
    fields = http.post(f"/hooks/{trigger.key}?wait=20", files=parts)
    form = http.post(
        f"/hooks/{trigger.key}",
        data={"message": "with a file"},
        files={"upload": ("a.txt", b"file body", "text/plain")},
    )

    assert fields.request.headers["content-type"].startswith("multipart/form-data")
    assert fields.status_code == 200, fields.text
    assert fields.json()["output"]["reply"] == "multi"
    assert form.status_code == 415
    assert Run.objects.get().input == {"message": "multi", "tag": ["a", "b"]}


def test_a_text_body_becomes_input_text(http, make_workflow, make_trigger):
    graph = make_graph("workflow.input.text")
    graph["nodes"][0]["config"]["input_schema"] = {"type": "object", "properties": {"text": {"type": "string"}}}
    graph["nodes"][1]["config"]["output"]["echo"] = "workflow.input.text"
    trigger, _ = make_trigger(make_workflow(graph=graph), auth_mode="none")

    response = post(http, trigger, body=b"plain words", headers={"content-type": "text/plain"}, query="?wait=20")

    assert response.status_code == 200
    assert response.json()["output"]["reply"] == "plain words"


def test_the_test_url_runs_the_draft(http, make_workflow, make_trigger):
    wf = make_workflow(draft_graph=make_graph("'draft: ' + nodes.shape.output.echo"))
    trigger, secret = make_trigger(wf)

    published = post(http, trigger, headers=signed(secret), query="?wait=20")
    draft = post(http, trigger, headers=signed(secret), path="hooks/test", query="?wait=20")

    assert published.json()["output"]["reply"] == "hello"
    assert draft.json()["output"]["reply"] == "draft: hello"
    assert Delivery.objects.filter(trigger=trigger, test=True).count() == 1


def test_a_repeated_webhook_id_returns_the_first_run(http, make_trigger):
    trigger, secret = make_trigger()
    headers = signed(secret, msg_id="msg_repeat")

    first = post(http, trigger, headers=headers)
    again = post(http, trigger, headers=headers)
    other_body = json.dumps({"message": "different"}).encode()
    same_id_other_body = post(http, trigger, body=other_body, headers=signed(secret, other_body, msg_id="msg_repeat"))

    assert first.status_code == again.status_code == same_id_other_body.status_code == 202
    assert first.json()["run_id"] == again.json()["run_id"] == same_id_other_body.json()["run_id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Run.objects.count() == 1
    assert list(Delivery.objects.filter(trigger=trigger).values_list("outcome", flat=True).order_by("id")) == [
        "accepted",
        "duplicate",
        "duplicate",
    ]


def test_an_idempotency_key_header_works_in_bearer_mode(http, make_trigger):
    trigger, secret = make_trigger(auth_mode="bearer")
    headers = {"content-type": "application/json", "authorization": f"Bearer {secret}", "Idempotency-Key": "order-9"}

    ids = {post(http, trigger, headers=headers).json()["run_id"] for _ in range(3)}

    assert len(ids) == 1
    assert Run.objects.count() == 1


def test_fifty_concurrent_requests_with_one_webhook_id_make_exactly_one_run(http, make_trigger):
    trigger, secret = make_trigger()
    headers = signed(secret, msg_id="msg_concurrent")

    def fire(_):
        return post(http, trigger, headers=headers)

    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(fire, range(50)))

    assert [r.status_code for r in responses] == [202] * 50
    assert len({r.json()["run_id"] for r in responses}) == 1
    assert Run.objects.count() == 1
    assert Delivery.objects.filter(trigger=trigger, outcome="accepted").count() == 1
    assert Delivery.objects.filter(trigger=trigger, outcome="duplicate").count() == 49


def test_each_call_sees_the_trigger_and_workflow_as_they_are_now(http, make_trigger, workflow):
    from builder.models import WorkflowVersion
    from runs.triggers.services import trigger_update

    trigger, secret = make_trigger()
    assert post(http, trigger, headers=signed(secret), query="?wait=20").json()["output"]["reply"] == "hello"

    # a new published version is used by the very next call
    v2 = WorkflowVersion.objects.create(
        workflow=workflow, number=2, graph=make_graph("'v2: ' + nodes.shape.output.echo"), checksum="1" * 64
    )
    workflow.published_version = v2
    workflow.save(update_fields=["published_version"])
    assert post(http, trigger, headers=signed(secret), query="?wait=20").json()["output"]["reply"] == "v2: hello"

    # and disabling takes effect at once
    trigger_update(trigger=trigger, enabled=False)
    assert post(http, trigger, headers=signed(secret)).status_code == 404
    assert Run.objects.count() == 2


# --- the lean ASGI endpoint answers like the Django views ----------------------------------------


def test_the_asgi_endpoint_and_the_django_view_give_the_same_answers(http, client, make_trigger):
    trigger, secret = make_trigger()
    body = json.dumps({"count": 3}).encode()  # "message" is required

    live = post(http, trigger, body, headers=signed(secret, body))
    django = client.post(
        f"/hooks/{trigger.key}",
        data=body,
        content_type="application/json",
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in signed(secret, body).items() if k != "content-type"},
    )

    assert live.status_code == django.status_code == 422
    assert live.json() == django.json()
    assert live.headers["content-type"] == "application/json"
    assert live.headers["x-content-type-options"] == "nosniff"
    assert Run.objects.count() == 0


def test_a_get_answers_405_with_allow(http, make_trigger):
    trigger, _ = make_trigger()

    response = http.get(f"/hooks/{trigger.key}")

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_a_nul_in_the_query_answers_400_and_nothing_is_stored(http, make_trigger):
    trigger, secret = make_trigger()

    response = post(http, trigger, headers=signed(secret), query="?source=a%00b")

    assert response.status_code == 400
    assert Run.objects.count() == 0


def test_repeated_query_names_become_a_list(http, make_trigger):
    trigger, secret = make_trigger()

    response = post(http, trigger, headers=signed(secret), query="?tag=a&tag=b&one=1")

    assert response.status_code == 202
    assert Run.objects.get().trigger["query"] == {"tag": ["a", "b"], "one": "1"}


def test_a_hooks_path_without_a_key_answers_404_json(http):
    for path in ("/hooks/", "/hooks/a/b", "/hooks/test/"):
        response = http.post(path, content=BODY, headers={"content-type": "application/json"})

        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
