"""REST API for budgets (DESIGN §12): the workspace's, a workflow's and an API token's budget, model prices,
and a CSV export of usage. Members read; only admins change anything."""

from __future__ import annotations

import csv
import datetime as dt
import io

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiToken, Role, role_at_least
from accounts.permissions import current_workspace, get_in_workspace, membership_for, require_role
from budgets import selectors, services
from budgets.models import Budget, Scope, TriggerCostLimit
from builder.models import Workflow
from chat.models import ChatDeployment
from runs.models import Run
from runs.triggers.callbacks import shown_url
from runs.triggers.models import Trigger
from trellis.bodies import body_dict, days_param, validated
from trellis.errors import ApplicationError
from trellis.fields import StrictCharField, StrictFloatField


class BudgetIn(serializers.Serializer):
    window = serializers.ChoiceField(["month", "day"], help_text="calendar window in the workspace time zone")
    limit_usd = StrictFloatField(help_text="hard limit: a model call that would cross it is not sent")
    alert_at = StrictFloatField(required=False, help_text="soft alert at this fraction of the limit (0.8)")
    alert_webhook_url = StrictCharField(
        required=False,
        allow_blank=True,
        help_text="optional: the alert is POSTed here, signed with Standard Webhooks (the workspace's callback "
        "signing secret)",
    )


class StandingOut(serializers.Serializer):
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField()
    spent_usd = StrictFloatField()
    reserved_usd = StrictFloatField(help_text="held by model calls in flight")
    left_usd = StrictFloatField()
    used_fraction = StrictFloatField()
    forecast_usd = StrictFloatField(help_text="spend at the end of the window at the recent rate")
    forecast_exceeds = serializers.BooleanField()
    alerted_at = serializers.DateTimeField(allow_null=True)
    exceeded_at = serializers.DateTimeField(allow_null=True, help_text="the first call refused in this window")
    alert_delivery = serializers.JSONField(allow_null=True)


class BudgetOut(serializers.Serializer):
    id = serializers.UUIDField()
    scope = serializers.ChoiceField(Scope.values)
    target_id = serializers.CharField()
    target_name = serializers.CharField(allow_null=True)
    window = serializers.ChoiceField(["month", "day"])
    limit_usd = StrictFloatField()
    alert_at = StrictFloatField()
    alert_webhook_url = serializers.CharField()
    current = StandingOut()


class BudgetsOut(serializers.Serializer):
    time_zone = serializers.CharField()
    workspace = BudgetOut(allow_null=True)
    budgets = BudgetOut(many=True)


def _names(budgets: list[Budget]) -> dict[tuple[str, str], str]:
    names: dict[tuple[str, str], str] = {}
    workflow_ids = [b.target_id for b in budgets if b.scope == Scope.WORKFLOW]
    token_ids = [b.target_id for b in budgets if b.scope == Scope.API_TOKEN]
    for pk, name in Workflow.objects.filter(pk__in=workflow_ids).values_list("pk", "name"):
        names[(Scope.WORKFLOW, str(pk))] = name
    for pk, name in ApiToken.objects.filter(pk__in=token_ids).values_list("pk", "name"):
        names[(Scope.API_TOKEN, str(pk))] = name
    return names


def budget_json(budget: Budget, names: dict | None = None, *, admin: bool = False) -> dict:
    """`admin`: the alert webhook URL in full (its query may hold the receiver's token); others see it without
    user info, query or fragment, like a run's callback URL."""

    names = names if names is not None else _names([budget])
    url = budget.alert_webhook_url
    return {
        "id": budget.pk,
        "scope": budget.scope,
        "target_id": budget.target_id,
        "target_name": names.get((budget.scope, budget.target_id)),
        "window": budget.window,
        "limit_usd": float(budget.limit_usd),
        "alert_at": float(budget.alert_at),
        "alert_webhook_url": url if admin or not url else shown_url(url),
        "current": selectors.budget_standing(budget),
    }


def _put(request, workspace, scope: str, target_id: str) -> Response:
    data = body_dict(request)
    for name in ("window", "limit_usd"):
        if name not in data:
            raise ApplicationError("validation_error", f"{name} is required.", [{"field": name}])
    BudgetIn(data=data).is_valid(raise_exception=True)  # the documented types (numbers as numbers, text as text)
    budget = services.budget_set(
        workspace=workspace,
        scope=scope,
        target_id=target_id,
        window=data["window"],
        limit_usd=data["limit_usd"],
        alert_at=data.get("alert_at"),
        alert_webhook_url=data.get("alert_webhook_url") or "",
        by=request.user,
    )
    budget = selectors.budget_for(workspace_id=workspace.pk, scope=scope, target_id=target_id) or budget
    return Response(budget_json(budget, admin=True))


def _delete(request, workspace_id, scope: str, target_id: str) -> Response:
    budget = selectors.budget_for(workspace_id=workspace_id, scope=scope, target_id=target_id)
    if budget is None:
        raise ApplicationError("not_found", "There is no such budget.", status=404)
    services.budget_delete(budget=budget, by=request.user)
    return Response(status=status.HTTP_204_NO_CONTENT)


class WorkspaceBudgetsApi(APIView):
    @extend_schema(
        summary="The workspace's budget and every other budget in it, each with its current window",
        responses=BudgetsOut,
    )
    def get(self, request):
        membership = current_workspace(request, Role.VIEWER)
        budgets = selectors.budget_list(workspace_id=membership.workspace_id)
        names = _names(budgets)
        admin = role_at_least(membership.role, Role.ADMIN)
        rows = [budget_json(b, names, admin=admin) for b in budgets]
        workspace = next((r for r in rows if r["scope"] == Scope.WORKSPACE), None)
        return Response({"time_zone": membership.workspace.time_zone, "workspace": workspace, "budgets": rows})

    @extend_schema(summary="Set the workspace budget (admin)", request=BudgetIn, responses=BudgetOut)
    def put(self, request):
        membership = current_workspace(request, Role.ADMIN)
        return _put(request, membership.workspace, Scope.WORKSPACE, "")

    @extend_schema(summary="Remove the workspace budget (admin)", responses={204: None})
    def delete(self, request):
        membership = current_workspace(request, Role.ADMIN)
        return _delete(request, membership.workspace_id, Scope.WORKSPACE, "")


class _TargetBudgetApi(APIView):
    scope: str

    def _target(self, request, target_id, role: str):
        raise NotImplementedError

    def get(self, request, target_id):
        obj = self._target(request, target_id, Role.VIEWER)
        budget = selectors.budget_for(workspace_id=obj.workspace_id, scope=self.scope, target_id=str(obj.pk))
        if budget is None:
            return HttpResponse("null", content_type="application/json")  # DRF renders None as an empty body
        admin = role_at_least(membership_for(request, obj.workspace_id).role, Role.ADMIN)
        return Response(budget_json(budget, admin=admin))

    def put(self, request, target_id):
        obj = self._target(request, target_id, Role.VIEWER)
        membership = require_role(request, obj.workspace_id, Role.ADMIN)
        return _put(request, membership.workspace, self.scope, str(obj.pk))

    def delete(self, request, target_id):
        obj = self._target(request, target_id, Role.VIEWER)
        require_role(request, obj.workspace_id, Role.ADMIN)
        return _delete(request, obj.workspace_id, self.scope, str(obj.pk))


class WorkflowBudgetApi(_TargetBudgetApi):
    scope = Scope.WORKFLOW

    def _target(self, request, target_id, role):
        return get_in_workspace(request, Workflow.objects.all(), role, pk=target_id)

    @extend_schema(summary="The workflow's budget (null when it has none)", responses=BudgetOut)
    def get(self, request, target_id):
        return super().get(request, target_id)

    @extend_schema(summary="Set the workflow's budget (admin)", request=BudgetIn, responses=BudgetOut)
    def put(self, request, target_id):
        return super().put(request, target_id)

    @extend_schema(summary="Remove the workflow's budget (admin)", responses={204: None})
    def delete(self, request, target_id):
        return super().delete(request, target_id)


class TokenBudgetApi(_TargetBudgetApi):
    scope = Scope.API_TOKEN

    def _target(self, request, target_id, role):
        return get_in_workspace(request, ApiToken.objects.all(), role, pk=target_id)

    @extend_schema(summary="The API token's budget (null when it has none)", responses=BudgetOut)
    def get(self, request, target_id):
        return super().get(request, target_id)

    @extend_schema(summary="Set the API token's budget (admin)", request=BudgetIn, responses=BudgetOut)
    def put(self, request, target_id):
        return super().put(request, target_id)

    @extend_schema(summary="Remove the API token's budget (admin)", responses={204: None})
    def delete(self, request, target_id):
        return super().delete(request, target_id)


class ChatDeploymentBudgetApi(_TargetBudgetApi):
    scope = Scope.CHAT_DEPLOYMENT

    def _target(self, request, target_id, role):
        return get_in_workspace(request, ChatDeployment.objects.all(), role, pk=target_id)

    @extend_schema(summary="The chat deployment's budget (null when it has none)", responses=BudgetOut)
    def get(self, request, target_id):
        return super().get(request, target_id)

    @extend_schema(summary="Set the chat deployment's budget (admin)", request=BudgetIn, responses=BudgetOut)
    def put(self, request, target_id):
        return super().put(request, target_id)

    @extend_schema(summary="Remove the chat deployment's budget (admin)", responses={204: None})
    def delete(self, request, target_id):
        return super().delete(request, target_id)


# --- prices -------------------------------------------------------------------------------------


class PriceIn(serializers.Serializer):
    model = StrictCharField(max_length=200)
    input = StrictFloatField(min_value=0, help_text="USD per 1M input tokens")
    output = StrictFloatField(min_value=0, help_text="USD per 1M output tokens")
    cached_input = StrictFloatField(min_value=0, required=False, allow_null=True, help_text="default: input")
    reasoning = StrictFloatField(min_value=0, required=False, allow_null=True, help_text="default: output")
    effective_from = serializers.DateTimeField(required=False, help_text="default: now")


class PricesIn(serializers.Serializer):
    prices = PriceIn(many=True, allow_empty=False, max_length=500)


class PricesOut(serializers.Serializer):
    prices = serializers.JSONField(
        help_text="[{model, input, cached_input, output, reasoning, effective_from, source}]"
    )
    history = serializers.JSONField(help_text="the workspace's own prices, newest first per model")


def _prices_json(workspace_id) -> dict:
    return {
        "prices": selectors.price_list(workspace_id=workspace_id),
        "history": selectors.price_history(workspace_id=workspace_id),
    }


class ModelPricesApi(APIView):
    @extend_schema(summary="Prices in force (USD per 1M tokens) and the workspace's price history", responses=PricesOut)
    def get(self, request):
        membership = current_workspace(request, Role.VIEWER)
        return Response(_prices_json(membership.workspace_id))

    @extend_schema(
        summary="Add workspace prices (admin); each applies from its effective_from on, earlier costs keep theirs",
        request=PricesIn,
        responses=PricesOut,
    )
    def put(self, request):
        membership = current_workspace(request, Role.ADMIN)
        prices = validated(PricesIn, request)["prices"]
        services.model_prices_add(workspace=membership.workspace, items=prices, by=request.user)
        return Response(_prices_json(membership.workspace_id))


# --- CSV export -----------------------------------------------------------------------------------

CSV_COLUMNS = [
    "run_id",
    "created_at",
    "workflow_id",
    "workflow",
    "trigger",
    "status",
    "input_tokens",
    "output_tokens",
    "cost_usd",
]


class UsageExportApi(APIView):
    @extend_schema(
        summary="Runs of the last ?days=30 with tokens and cost, as CSV (cost 'price unknown' when not priced)",
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request):
        membership = current_workspace(request, Role.VIEWER)
        days = days_param(request)
        since = timezone.now() - dt.timedelta(days=days)
        runs = (
            Run.objects.filter(workspace_id=membership.workspace_id, created_at__gte=since)
            .order_by("-created_at")
            .values_list("id", "created_at", "workflow_id", "workflow__name", "trigger", "status", "usage")
        )
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for pk, created_at, workflow_id, name, trigger, run_status, usage in runs.iterator(chunk_size=2000):
            usage = usage or {}
            cost = usage.get("cost_usd") or 0
            shown = "price unknown" if usage.get("price_unknown") else f"{float(cost):.6f}"
            writer.writerow(
                [
                    pk,
                    created_at.isoformat(),
                    workflow_id,
                    _csv_safe(name),
                    (trigger or {}).get("type", ""),
                    run_status,
                    usage.get("input_tokens") or 0,
                    usage.get("output_tokens") or 0,
                    shown,
                ]
            )
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="trellis-usage-{days}d.csv"'
        return response


def _csv_safe(value: str | None) -> str:
    """A name a spreadsheet would run as a formula (=, +, -, @) is prefixed with a quote."""
    value = value or ""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


# --- per-run cap of a trigger's runs ------------------------------------------------------------------


class TriggerMaxCostIn(serializers.Serializer):
    max_cost_usd = StrictFloatField(allow_null=True, help_text="USD per run; null removes the cap")


class TriggerMaxCostApi(APIView):
    def _trigger(self, request, workflow_id, trigger_id, role: str):
        return get_in_workspace(request, Trigger.objects.all(), role, pk=trigger_id, workflow_id=workflow_id)

    @extend_schema(summary="The max_cost_usd of each run this trigger starts", responses=TriggerMaxCostIn)
    def get(self, request, workflow_id, trigger_id):
        trigger = self._trigger(request, workflow_id, trigger_id, Role.VIEWER)
        row = TriggerCostLimit.objects.filter(trigger=trigger).first()
        return Response({"max_cost_usd": float(row.max_cost_usd) if row else None})

    @extend_schema(
        summary="Set or remove (null) the max_cost_usd of this trigger's runs (admin)", request=TriggerMaxCostIn
    )
    def put(self, request, workflow_id, trigger_id):
        trigger = self._trigger(request, workflow_id, trigger_id, Role.VIEWER)
        require_role(request, trigger.workspace_id, Role.ADMIN)
        data = body_dict(request)
        if "max_cost_usd" not in data:
            raise ApplicationError(
                "validation_error", "max_cost_usd is required (null removes it).", [{"field": "max_cost_usd"}]
            )
        row = services.trigger_max_cost_set(trigger=trigger, max_cost_usd=data["max_cost_usd"], by=request.user)
        return Response({"max_cost_usd": float(row.max_cost_usd) if row else None})
