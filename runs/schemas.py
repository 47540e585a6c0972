"""Serializers that only describe the runs API in the OpenAPI schema (views build their JSON in selectors)."""

from rest_framework import serializers

from trellis.openapi import documented, or_empty

# `wait` as runs.services.parse_wait takes it: a number of seconds from 0, or its text; null, "" or false: none
# (true is 1).
WAIT = {
    "anyOf": [
        {"type": "number", "minimum": 0},
        {"type": "boolean"},
        {"type": "string", "maxLength": 0},
        {"type": "string", "pattern": r"^\s*\+?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$"},
    ],
    "nullable": True,
}


class UsageOut(serializers.Serializer):
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    cost_usd = serializers.FloatField(help_text="the cost of the calls with a known price")
    price_unknown = serializers.BooleanField(
        required=False, help_text='true when some call had no known price: cost_usd is a lower bound ("price unknown")'
    )


class ErrorOut(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    node_id = serializers.CharField(allow_null=True)


class StepOut(serializers.Serializer):
    id = serializers.UUIDField()
    node_id = serializers.CharField()
    node_type = serializers.CharField()
    attempt = serializers.IntegerField()
    iteration = serializers.IntegerField()
    status = serializers.ChoiceField(["running", "succeeded", "failed", "skipped", "waiting", "cancelled"])
    input = serializers.JSONField(allow_null=True)
    output = serializers.JSONField(allow_null=True)
    error = serializers.JSONField(allow_null=True)
    port = serializers.CharField(allow_null=True)
    wait = serializers.JSONField(allow_null=True, help_text="user_approval: {message, approvers, timeout_at}")
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    duration_ms = serializers.IntegerField(allow_null=True)
    usage = serializers.JSONField(allow_null=True)


class CallbackOut(serializers.Serializer):
    url = serializers.CharField(
        allow_null=True,
        help_text="where the result is POSTed, without user info, query or fragment (null: the URL was removed)",
    )
    source = serializers.ChoiceField(["run", "trigger"], help_text="the run's own callback_url, or its trigger's")
    state = serializers.ChoiceField(
        ["pending", "delivered", "failed"],
        help_text="pending: sent when the run finishes (attempts 0) or at next_attempt_at; failed: given up",
    )
    attempts = serializers.IntegerField(help_text="attempts made so far")
    max_attempts = serializers.IntegerField(help_text="the first attempt plus one per backoff step")
    last_status_code = serializers.IntegerField(allow_null=True, help_text="the receiver's answer to the last attempt")
    last_error = serializers.CharField(allow_null=True, help_text="why the last attempt failed")
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)


class RunOut(serializers.Serializer):
    id = serializers.UUIDField()
    workflow = serializers.UUIDField()
    version = serializers.IntegerField(allow_null=True)
    is_draft = serializers.BooleanField()
    status = serializers.ChoiceField(["queued", "running", "waiting", "succeeded", "failed", "cancelled", "timed_out"])
    input = serializers.JSONField()
    output = serializers.JSONField(allow_null=True)
    error = ErrorOut(allow_null=True)
    trigger = serializers.JSONField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    usage = UsageOut()
    last_seq = serializers.IntegerField(help_text="the last event's seq: open the WebSocket with ?after=")
    steps = StepOut(many=True, required=False)
    callback = CallbackOut(
        allow_null=True,
        required=False,
        help_text="with the steps (detail only): the outbound callback's delivery; null when the run has none",
    )


class RunPageOut(serializers.Serializer):
    results = RunOut(many=True)
    next_cursor = serializers.CharField(allow_null=True)


class RunStartIn(serializers.Serializer):
    input = serializers.DictField(default=dict, help_text="checked against the start node's input_schema")
    version = serializers.JSONField(default="draft", help_text='"draft", "published" or a version number')
    wait = documented(
        WAIT, required=False, help_text="seconds to wait for a finished or waiting run (at most RUN_MAX_WAIT_S)"
    )
    idempotency_key = documented(
        or_empty({"type": "string", "maxLength": 200}),
        required=False,
        help_text="or the Idempotency-Key header; empty: none",
    )
    callback_url = serializers.URLField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=2000,
        help_text=(
            "http(s) URL that receives the finished run: a POST of {type: run.finished, timestamp, data: {run_id, "
            "workflow_id, trigger_id, status, output, error, started_at, finished_at}}, signed with Standard "
            "Webhooks using the workspace's callback signing secret (POST /api/v1/workspace/callback-secret/rotate), "
            "retried with backoff; private and loopback addresses are refused"
        ),
    )
    max_cost_usd = serializers.FloatField(
        required=False,
        allow_null=True,
        help_text="the most this run may spend on model calls (USD); a call that would cross it is not sent "
        "and its step fails with budget_exceeded; null: no limit",
    )


class ApprovalIn(serializers.Serializer):
    step_id = serializers.UUIDField()
    decision = serializers.ChoiceField(["approved", "rejected"])
    comment = serializers.CharField(required=False, allow_blank=True)


class RerunIn(serializers.Serializer):
    from_step = serializers.UUIDField(
        required=False, allow_null=True, help_text="keep the steps before this one; run the rest"
    )
    wait = documented(WAIT, required=False, help_text="as when starting a run")
    callback_url = serializers.URLField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=2000,
        help_text="as when starting a run; a rerun never inherits the original run's callback_url",
    )


class EventOut(serializers.Serializer):
    seq = serializers.IntegerField(allow_null=True)
    type = serializers.CharField()
    run_id = serializers.UUIDField()
    node_id = serializers.CharField(allow_null=True)
    ts = serializers.DateTimeField()
    data = serializers.JSONField()


class EventsOut(serializers.Serializer):
    events = EventOut(many=True)
