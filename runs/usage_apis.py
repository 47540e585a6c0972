"""Read-only usage figures for the usage screen (tokens and cost per day, workflow and model; runs by
status per day) and the graph a run executed, for the run detail screen. Mounted by runs/usage_urls.py."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, FloatField, IntegerField, Q, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.permissions import current_workspace, get_in_workspace
from runs.models import Run, Step
from runs.triggers.models import Trigger
from trellis.bodies import days_param

MAX_DAYS = 366


def _sums(prefix: str = "") -> dict:
    def num(key: str, field):
        return Coalesce(Sum(Cast(KT(f"{prefix}usage__{key}"), field)), 0, output_field=field)

    return {
        "input_tokens": num("input_tokens", IntegerField()),
        "output_tokens": num("output_tokens", IntegerField()),
        "cost_usd": num("cost_usd", FloatField()),
        # Rows whose cost is not (fully) known: their cost_usd is a lower bound, shown as "price unknown".
        "price_unknown": Count("pk", filter=Q(**{f"{prefix}usage__price_unknown": True})),
    }


def _row(key: str, values: dict, *, runs: int, label: str | None = None) -> dict:
    row = {
        "key": key,
        "runs": runs,
        "input_tokens": int(values["input_tokens"] or 0),
        "output_tokens": int(values["output_tokens"] or 0),
        "cost_usd": round(float(values["cost_usd"] or 0), 6),
        "price_unknown": int(values.get("price_unknown") or 0),
    }
    if label is not None:
        row["label"] = label
    return row


def usage_report(*, workspace_id, days: int, workflow_id=None) -> dict:
    """Aggregates in the database (a few GROUP BY queries), so it stays cheap with many runs."""
    since = timezone.now() - dt.timedelta(days=days)
    runs = Run.objects.filter(workspace_id=workspace_id, created_at__gte=since)
    if workflow_id:
        runs = runs.filter(workflow_id=workflow_id)

    per_day = [
        _row(r["day"].isoformat(), r, runs=r["runs"])
        for r in runs.annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(runs=Count("id"), **_sums())
        .order_by("day")
    ]
    per_workflow = [
        _row(str(r["workflow_id"]), r, runs=r["runs"], label=r["workflow__name"])
        for r in runs.values("workflow_id", "workflow__name")
        .annotate(runs=Count("id"), **_sums())
        .order_by("-cost_usd", "-runs")
    ]
    steps = Step.objects.filter(run__in=runs, usage__isnull=False).exclude(usage__model=None)
    per_model = [
        _row(r["model"] or "unknown", r, runs=r["runs"])
        for r in steps.annotate(model=KT("usage__model"))
        .values("model")
        .annotate(runs=Count("run_id", distinct=True), **_sums())
        .order_by("-cost_usd", "model")
    ]
    per_trigger = _per_trigger(runs)
    by_day: dict[str, dict[str, int]] = {}
    for r in runs.annotate(day=TruncDate("created_at")).values("day", "status").annotate(n=Count("id")):
        by_day.setdefault(r["day"].isoformat(), {})[r["status"]] = r["n"]
    return {
        "days": days,
        "source": "server",
        "per_day": per_day,
        "per_workflow": per_workflow,
        "per_model": per_model,
        "per_trigger": per_trigger,
        "status_by_day": [{"day": day, "counts": by_day[day]} for day in sorted(by_day)],
    }


def _per_trigger(runs) -> list[dict]:
    """Cost per trigger: each webhook or schedule trigger on its own (labelled with its name), the other
    ways of starting a run (api, manual, openai, …) one row each."""

    rows = list(
        runs.annotate(trigger_type=KT("trigger__type"), trigger_ref=KT("trigger__trigger_id"))
        .values("trigger_type", "trigger_ref")
        .annotate(runs=Count("id"), **_sums())
        .order_by("-cost_usd", "-runs")
    )
    ids = [r["trigger_ref"] for r in rows if r["trigger_ref"]]
    names = {
        str(pk): (name, kind) for pk, name, kind in Trigger.objects.filter(pk__in=ids).values_list("pk", "name", "kind")
    }
    out = []
    for r in rows:
        kind = r["trigger_type"] or "unknown"
        if r["trigger_ref"]:
            name, _ = names.get(r["trigger_ref"], ("", kind))
            out.append(_row(r["trigger_ref"], r, runs=r["runs"], label=f"{kind}: {name or r['trigger_ref'][:8]}"))
        else:
            out.append(_row(kind, r, runs=r["runs"]))
    return out


class UsageRowOut(serializers.Serializer):
    key = serializers.CharField(help_text="the day (YYYY-MM-DD), workflow id, model, trigger id or trigger type")
    label = serializers.CharField(required=False, help_text="per workflow and per trigger: a name to show")
    runs = serializers.IntegerField()
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    cost_usd = serializers.FloatField(help_text="of the calls with a known price")
    price_unknown = serializers.IntegerField(help_text="runs (per model: steps) whose cost is not known")


class StatusDayOut(serializers.Serializer):
    day = serializers.DateField()
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="run status → runs")


class UsageReportOut(serializers.Serializer):
    days = serializers.IntegerField()
    source = serializers.ChoiceField(["server"])
    per_day = UsageRowOut(many=True)
    per_workflow = UsageRowOut(many=True)
    per_model = UsageRowOut(many=True)
    per_trigger = UsageRowOut(many=True)
    status_by_day = StatusDayOut(many=True)


class UsageApi(APIView):
    @extend_schema(
        summary="Tokens and cost per day, workflow and model; runs by status per day (?days=30)",
        responses=UsageReportOut,
    )
    def get(self, request):
        membership = current_workspace(request, Role.VIEWER)
        days = days_param(request, most=MAX_DAYS)
        report = usage_report(
            workspace_id=membership.workspace_id, days=days, workflow_id=request.GET.get("workflow") or None
        )
        return Response(report)


class RunGraphOut(serializers.Serializer):
    graph = serializers.DictField(help_text="a trellis.graph/1 graph")
    version = serializers.IntegerField(allow_null=True)
    is_draft = serializers.BooleanField()


class RunGraphApi(APIView):
    @extend_schema(summary="The graph a run executed (its pinned version or its draft snapshot)", responses=RunGraphOut)
    def get(self, request, run_id):
        run = get_in_workspace(request, Run.objects.select_related("version"), Role.VIEWER, pk=run_id)
        return Response(
            {
                "graph": run.executed_graph,
                "version": run.version.number if run.version_id and run.version else None,
                "is_draft": run.is_draft,
            }
        )
