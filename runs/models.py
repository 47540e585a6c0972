"""Runs, their steps (one execution of one node) and their append-only event log."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class RunStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    WAITING = "waiting"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"


TERMINAL_STATUSES = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.TIMED_OUT})


class StepStatus(models.TextChoices):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    WAITING = "waiting"
    CANCELLED = "cancelled"


def _empty_usage() -> dict:
    return {"input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0}


class Run(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No single-column indexes: run_workspace_created and run_workflow_status lead with these columns,
    # and every index is one more B-tree to update on each of the hundreds of inserts a second.
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="runs", db_index=False)
    workflow = models.ForeignKey("builder.Workflow", on_delete=models.CASCADE, related_name="runs", db_index=False)
    version = models.ForeignKey(
        "builder.WorkflowVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="runs"
    )
    # The graph the run executes, copied at start so later edits never change a run in flight.
    # The graph of a draft run (a snapshot: the draft changes). A run of a published version leaves it
    # empty and reads the immutable version's graph (`executed_graph`): no copy of it in every run row.
    graph = models.JSONField(null=True, blank=True)
    is_draft = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    input = models.JSONField(default=dict)
    output = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)  # {code, message, node_id}
    trigger = models.JSONField(default=dict)  # {type: api|webhook|schedule|openai|manual|rerun, ...}
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    timings = models.JSONField(default=dict)  # {active_ms}: time spent executing, waiting excluded
    usage = models.JSONField(default=_empty_usage)
    cancel_requested = models.BooleanField(default=False)
    # The worker advancing the run holds the lease and renews it; an expired lease is reaped.
    lease_owner = models.CharField(max_length=100, null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # Leases that expired in a row (the worker died or froze) with no step committed since: at
    # RUN_MAX_RECOVERIES the run fails with `crashed_repeatedly` instead of taking down worker after worker.
    recoveries = models.IntegerField(default=0)
    # When the run's last message went to the broker (null: only its first, at creation), and how many times
    # the reaper sent it again: the reaper re-sends a run only when that message is overdue.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    redispatches = models.IntegerField(default=0)
    # When a waiting run must be looked at again (the earliest approval timeout).
    wake_at = models.DateTimeField(null=True, blank=True)
    # Counters owned by the run row so that every writer allocates under the same row lock.
    last_seq = models.IntegerField(default=0)
    step_counter = models.IntegerField(default=0)
    # For "rerun from a step": the run whose earlier steps were copied into this one.
    parent_run = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Where the finished run is POSTed (API-started runs; trigger runs use their trigger's callback_url),
    # signed with the workspace's callback signing secret. Not inherited by reruns.
    callback_url = models.URLField(max_length=2000, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workflow", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="run_unique_idempotency_key",
            )
        ]
        indexes = [
            models.Index(fields=["workspace", "-created_at", "-id"], name="run_workspace_created"),
            models.Index(fields=["workflow", "status", "-created_at"], name="run_workflow_status"),
            models.Index(fields=["status", "lease_expires_at"], name="run_status_lease"),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def executed_graph(self) -> dict:
        if self.graph is not None:
            return self.graph
        return self.version.graph if self.version_id and self.version else {}


class Step(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="steps", db_index=False)  # step_run_order
    node_id = models.CharField(max_length=64)
    node_type = models.CharField(max_length=40)
    attempt = models.IntegerField(default=1)
    iteration = models.IntegerField(default=0)
    status = models.CharField(max_length=10, choices=StepStatus.choices)
    input = models.JSONField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    # The output port the step fired (branching nodes), applied when the engine replays the log.
    port = models.CharField(max_length=64, null=True, blank=True)
    state_updates = models.JSONField(default=dict)
    wait = models.JSONField(null=True, blank=True)  # user_approval: {message, approvers, timeout_at}
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.IntegerField(null=True, blank=True)
    usage = models.JSONField(null=True, blank=True)
    # Position in the run's log of finished steps; the engine replays the log in this order.
    order = models.IntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["run", "order"], name="step_run_order")]

    def __str__(self) -> str:
        return f"step {self.node_id}#{self.iteration}.{self.attempt} ({self.status})"


class RunEvent(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="events", db_index=False)  # (run, seq)
    seq = models.IntegerField()
    type = models.CharField(max_length=30)
    node_id = models.CharField(max_length=64, null=True, blank=True)
    data = models.JSONField(default=dict)
    ts = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="run_event_unique_seq")]

    def __str__(self) -> str:
        return f"{self.type} #{self.seq}"

    def as_message(self) -> dict:
        return {
            "seq": self.seq,
            "type": self.type,
            "run_id": str(self.run_id),
            "node_id": self.node_id,
            "ts": self.ts.isoformat().replace("+00:00", "Z"),
            "data": self.data,
        }
