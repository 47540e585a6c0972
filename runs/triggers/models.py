"""Trigger models: how a published workflow is started from outside (webhooks, schedules), and the
delivery log of every inbound call and outbound callback attempt."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class TriggerKind(models.TextChoices):
    WEBHOOK = "webhook", "Webhook"
    SCHEDULE = "schedule", "Schedule"


class AuthMode(models.TextChoices):
    SIGNATURE = "signature", "Standard Webhooks signature"
    BEARER = "bearer", "Bearer secret"
    NONE = "none", "No authentication"


class ResponseMode(models.TextChoices):
    ASYNC = "async", "Answer 202 at once"
    SYNC = "sync", "Wait for the run's result"


class Trigger(models.Model):
    """Runs its workflow's published version when called (webhook) or when due (schedule).

    Every trigger has a `whsec_` secret: it verifies inbound signatures (or is the bearer secret) and
    signs outbound callbacks. After a rotation the previous secret stays valid until
    `previous_secret_expires_at` so senders can switch over without dropped deliveries."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="triggers")
    workflow = models.ForeignKey("builder.Workflow", on_delete=models.CASCADE, related_name="triggers")
    kind = models.CharField(max_length=10, choices=TriggerKind.choices, default=TriggerKind.WEBHOOK)
    name = models.CharField(max_length=100, blank=True)
    enabled = models.BooleanField(default=True)
    key = models.CharField(max_length=64, unique=True)
    auth_mode = models.CharField(max_length=10, choices=AuthMode.choices, default=AuthMode.SIGNATURE)
    secret_ciphertext = models.BinaryField()
    previous_secret_ciphertext = models.BinaryField(null=True, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    response_mode = models.CharField(max_length=5, choices=ResponseMode.choices, default=ResponseMode.ASYNC)
    sync_timeout_s = models.PositiveIntegerField(default=30)
    # None: the TRELLIS_WEBHOOK_RATE_LIMIT default; 0: unlimited.
    rate_limit_per_minute = models.PositiveIntegerField(null=True, blank=True)
    callback_url = models.URLField(max_length=2000, blank=True)
    # Schedules
    cron = models.CharField(max_length=100, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    schedule_input = models.JSONField(default=dict, blank=True)
    next_fire_at = models.DateTimeField(null=True, blank=True)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "enabled", "next_fire_at"], name="trigger_due_idx")]

    def __str__(self) -> str:
        return f"{self.kind} trigger {self.name or self.pk}"


class DeliveryKind(models.TextChoices):
    WEBHOOK = "webhook", "Inbound webhook"
    SCHEDULE = "schedule", "Scheduled fire"
    CALLBACK = "callback", "Outbound callback attempt"


class Outcome(models.TextChoices):
    ACCEPTED = "accepted", "Run started"
    DUPLICATE = "duplicate", "Repeated idempotency key: first run returned"
    REJECTED = "rejected", "Rejected"
    SKIPPED = "skipped", "Missed fire skipped"
    DELIVERED = "delivered", "Callback delivered"
    FAILED = "failed", "Callback attempt failed"


class Delivery(models.Model):
    """One line of a trigger's delivery log. Pruned after TRELLIS_DELIVERY_RETENTION_DAYS."""

    # Indexed by delivery_trigger_idx (trigger, -id): no single-column index to update on every webhook.
    trigger = models.ForeignKey(Trigger, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=10, choices=DeliveryKind.choices, default=DeliveryKind.WEBHOOK)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    reason = models.CharField(max_length=64, blank=True)  # the error code when rejected or failed
    message = models.CharField(max_length=500, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    run_id = models.UUIDField(null=True, blank=True)
    test = models.BooleanField(default=False)  # came through /hooks/test/<key> (ran the draft)
    message_id = models.CharField(max_length=255, blank=True)  # webhook-id / Idempotency-Key
    attempt = models.PositiveSmallIntegerField(default=1)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    # Refused calls are not logged one by one (a flood of bad signatures must not write a row each): one line
    # per trigger, reason and minute (`window_start`), counting them; `last_at` is when the latest came.
    count = models.PositiveIntegerField(default=1)
    window_start = models.DateTimeField(null=True, blank=True)
    last_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["trigger", "-id"], name="delivery_trigger_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["trigger", "window_start", "reason", "test"],
                condition=models.Q(window_start__isnull=False),
                name="delivery_refused_window_uniq",
            )
        ]


class CallbackState(models.TextChoices):
    PENDING = "pending", "Attempt due at next_attempt_at"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Given up"


class RunCallback(models.Model):
    """Where the outbound callback of one finished run stands: the state that makes retries durable.

    Made (pending, due now) when a run with a callback finishes. A sender claims the due attempt by bumping
    `attempts` and moving `next_attempt_at` out by a lease, under the row lock, then records the outcome:
    delivered, failed, or pending again at the next backoff step. Timers and Celery countdowns only wake
    senders early; a sender that dies mid-attempt leaves the row due again when its lease ends, so the
    scheduler's due-pass (or beat, in queue mode) sends it after a restart."""

    run = models.OneToOneField("runs.Run", on_delete=models.CASCADE, primary_key=True, related_name="+")
    state = models.CharField(max_length=10, choices=CallbackState.choices, default=CallbackState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)  # attempts claimed so far
    next_attempt_at = models.DateTimeField(null=True, blank=True)  # null once delivered or failed
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)  # never the URL's query (see callbacks._scrub)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=models.Q(state="pending"), name="runcallback_due_idx")
        ]
