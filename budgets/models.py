"""Budgets (hard limits with a soft alert over a calendar window), their per-window spend counters, the
per-run cost cap, and per-workspace model prices with the date from which each applies."""

import uuid

from django.conf import settings
from django.db import models

USD = {"max_digits": 18, "decimal_places": 9}


class Window(models.TextChoices):
    MONTH = "month"
    DAY = "day"


class Scope(models.TextChoices):
    WORKSPACE = "workspace"
    WORKFLOW = "workflow"
    API_TOKEN = "api_token"
    CHAT_DEPLOYMENT = "chat_deployment"


class Budget(models.Model):
    """A hard limit on model spend in one calendar window (workspace time zone), with a soft alert."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="budgets")
    scope = models.CharField(max_length=20, choices=Scope.choices)
    # The workflow, API token or chat deployment id; "" for the workspace budget.
    target_id = models.CharField(max_length=64, blank=True, default="")
    window = models.CharField(max_length=5, choices=Window.choices, default=Window.MONTH)
    limit_usd = models.DecimalField(**USD)
    alert_at = models.DecimalField(max_digits=4, decimal_places=3, default=0.8)
    alert_webhook_url = models.URLField(max_length=2000, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "scope", "target_id"], name="budget_unique_target"),
        ]

    def __str__(self) -> str:
        return f"{self.scope} budget {self.limit_usd} USD/{self.window}"


class BudgetPeriod(models.Model):
    """What one budget spent (settled) and holds (reserved for calls in flight) in one window."""

    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="periods", db_index=False)
    starts_on = models.DateField()  # the window's first day in the workspace time zone
    spent_usd = models.DecimalField(default=0, **USD)
    reserved_usd = models.DecimalField(default=0, **USD)
    # The budget's limit and alert threshold, copied here (and updated with the budget) so that a
    # reservation checks its row alone: one UPDATE holds the estimate in every counter that applies.
    limit_usd = models.DecimalField(**USD)
    alert_threshold_usd = models.DecimalField(**USD)
    alerted_at = models.DateTimeField(null=True, blank=True)  # the soft alert fired (once per window)
    exceeded_at = models.DateTimeField(null=True, blank=True)  # the first call refused in this window
    alert_delivery = models.JSONField(default=dict, blank=True)  # the alert webhook: {state, status_code, error}

    class Meta:
        constraints = [models.UniqueConstraint(fields=["budget", "starts_on"], name="budget_period_unique")]


class RunCostLimit(models.Model):
    """`max_cost_usd` of one run, with what the run spent and holds against it."""

    run = models.OneToOneField("runs.Run", on_delete=models.CASCADE, primary_key=True, related_name="cost_limit")
    max_cost_usd = models.DecimalField(**USD)
    spent_usd = models.DecimalField(default=0, **USD)
    reserved_usd = models.DecimalField(default=0, **USD)


class TriggerCostLimit(models.Model):
    """`max_cost_usd` for every run a trigger (webhook or schedule) starts; copied into the run's RunCostLimit
    at its first model call."""

    trigger = models.OneToOneField(
        "triggers.Trigger", on_delete=models.CASCADE, primary_key=True, related_name="cost_limit"
    )
    max_cost_usd = models.DecimalField(**USD)


class ModelPrice(models.Model):
    """A workspace's price for a model from `effective_from` on (USD per 1M tokens). Rows are never edited:
    a new price is a new row, so a cost computed earlier stays what it was."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="model_prices")
    model = models.CharField(max_length=200)
    input_per_1m = models.DecimalField(max_digits=12, decimal_places=6)
    cached_input_per_1m = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    output_per_1m = models.DecimalField(max_digits=12, decimal_places=6)
    reasoning_per_1m = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    effective_from = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "model", "effective_from"], name="model_price_unique"),
        ]
        indexes = [models.Index(fields=["workspace", "model", "-effective_from"], name="model_price_lookup")]
