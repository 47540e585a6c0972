"""Reads for budgets: the price of a model at a moment, window bounds in the workspace time zone, what a
budget's scope spent, and each budget's standing in its current window (with a forecast)."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import FloatField, QuerySet, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from budgets.models import Budget, BudgetPeriod, ModelPrice, Scope, Window
from runs.llm.prices import Price, lookup, price_table
from runs.models import Run

# The forecast extrapolates from the spend of this recent stretch (or of the window so far, if shorter).
FORECAST_LOOKBACK = {Window.MONTH: dt.timedelta(days=7), Window.DAY: dt.timedelta(hours=3)}


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def window_start(window: str, tz_name: str | None, at: dt.datetime) -> dt.date:
    """First day of the calendar day or month containing `at`, in the workspace time zone."""
    local = at.astimezone(zone(tz_name)).date()
    return local.replace(day=1) if window == Window.MONTH else local


def window_bounds(window: str, tz_name: str | None, starts_on: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The window's start and end as aware datetimes (midnights in the workspace time zone)."""
    tz = zone(tz_name)
    if window == Window.MONTH:
        following = (starts_on.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    else:
        following = starts_on + dt.timedelta(days=1)
    start = dt.datetime.combine(starts_on, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(following, dt.time.min, tzinfo=tz)
    return start, end


# A workspace's own price rows, per process for BUDGET_CACHE_S (this process's writes clear it at once).
_prices_cache: dict[str, tuple[float, list[tuple[str, dt.datetime, Price]]]] = {}


def prices_cache_clear(workspace_id=None) -> None:
    if workspace_id is None:
        _prices_cache.clear()
    else:
        _prices_cache.pop(str(workspace_id), None)


def _workspace_prices(workspace_id) -> list[tuple[str, dt.datetime, Price]]:
    key = str(workspace_id)
    now = time.monotonic()
    cached = _prices_cache.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    rows = [
        (name, since, Price(input=inp, output=out, cached_input=cached_in, reasoning=reasoning, source="workspace"))
        for name, since, inp, cached_in, out, reasoning in ModelPrice.objects.filter(workspace_id=workspace_id)
        .order_by("-effective_from")
        .values_list(
            "model", "effective_from", "input_per_1m", "cached_input_per_1m", "output_per_1m", "reasoning_per_1m"
        )
    ]
    _prices_cache[key] = (now + settings.BUDGET_CACHE_S, rows)
    return rows


def cached_prices(workspace_id) -> list | None:
    """The workspace's prices as this process's cache holds them (for `price_at`'s `rows`), or None when they are
    not there or too old."""
    cached = _prices_cache.get(str(workspace_id))
    return cached[1] if cached is not None and cached[0] > time.monotonic() else None


def price_at(
    *, workspace_id, model: str | None, at: dt.datetime | None = None, rows: list | None = None
) -> Price | None:
    """The workspace's own price for `model` in force at `at`, else the operator's (TRELLIS_MODEL_PRICES and
    the built-in table), else None. A dated snapshot name falls back to its base model. `rows`: the workspace's
    prices as `cached_prices` gave them (else read, through the cache)."""
    if not model:
        return None
    at = at or timezone.now()
    own: dict[str, Price] = {}
    for name, since, price in rows if rows is not None else _workspace_prices(workspace_id):  # newest first
        if since <= at:
            own.setdefault(name, price)
    return lookup(own, model) or lookup(price_table(), model)


def _base_names(model: str) -> list[str]:
    parts = model.split("-")
    return ["-".join(parts[:i]) for i in range(1, len(parts))]


def price_list(*, workspace_id, at: dt.datetime | None = None) -> list[dict]:
    """Every model with a price: the workspace's current ones, then the operator's not overridden."""
    at = at or timezone.now()
    current: dict[str, dict] = {}
    for row in ModelPrice.objects.filter(workspace_id=workspace_id, effective_from__lte=at).order_by(
        "model", "-effective_from"
    ):
        current.setdefault(row.model, price_row_json(row))
    out = list(current.values())
    for name, price in sorted(price_table().items()):
        if name not in current:
            out.append(_price_json(name, price, effective_from=None))
    return out


def price_history(*, workspace_id) -> list[dict]:
    rows = ModelPrice.objects.filter(workspace_id=workspace_id).order_by("model", "-effective_from")
    return [price_row_json(r) for r in rows]


def _num(value) -> float | None:
    return None if value is None else float(value)


def _price_json(model: str, price: Price, *, effective_from) -> dict:
    return {
        "model": model,
        "input": _num(price.input),
        "cached_input": _num(price.cached_input),
        "output": _num(price.output),
        "reasoning": _num(price.reasoning),
        "effective_from": effective_from,
        "source": price.source,
    }


def price_row_json(row: ModelPrice) -> dict:
    return {
        "model": row.model,
        "input": _num(row.input_per_1m),
        "cached_input": _num(row.cached_input_per_1m),
        "output": _num(row.output_per_1m),
        "reasoning": _num(row.reasoning_per_1m),
        "effective_from": row.effective_from,
        "source": "workspace",
    }


# --- what a scope spent ---------------------------------------------------------------------------


def scope_runs(*, workspace_id, scope: str, target_id: str) -> QuerySet:
    runs = Run.objects.filter(workspace_id=workspace_id)
    if scope == Scope.WORKFLOW:
        runs = runs.filter(workflow_id=target_id)
    elif scope == Scope.API_TOKEN:
        runs = runs.filter(trigger__token_id=target_id)
    elif scope == Scope.CHAT_DEPLOYMENT:
        runs = runs.filter(trigger__deployment_id=target_id)
    return runs


def runs_cost(runs: QuerySet, *, since: dt.datetime, until: dt.datetime | None = None) -> Decimal:
    """Recorded cost of the runs created in [since, until)."""
    runs = runs.filter(created_at__gte=since)
    if until is not None:
        runs = runs.filter(created_at__lt=until)
    total = runs.aggregate(c=Coalesce(Sum(Cast(KT("usage__cost_usd"), FloatField())), 0.0, output_field=FloatField()))
    return Decimal(str(round(total["c"] or 0.0, 9)))


# --- standing of each budget ----------------------------------------------------------------------


def budget_list(*, workspace_id) -> list[Budget]:
    return list(Budget.objects.filter(workspace_id=workspace_id).select_related("workspace").order_by("created_at"))


def budget_for(*, workspace_id, scope: str, target_id: str = "") -> Budget | None:
    return (
        Budget.objects.filter(workspace_id=workspace_id, scope=scope, target_id=str(target_id))
        .select_related("workspace")
        .first()
    )


def budget_standing(budget: Budget, *, at: dt.datetime | None = None) -> dict:
    """The current window: spent, reserved, left, alert state, and a forecast of the spend at its end."""
    at = at or timezone.now()
    tz_name = budget.workspace.time_zone
    starts_on = window_start(budget.window, tz_name, at)
    start, end = window_bounds(budget.window, tz_name, starts_on)
    period = BudgetPeriod.objects.filter(budget=budget, starts_on=starts_on).first()
    runs = scope_runs(workspace_id=budget.workspace_id, scope=budget.scope, target_id=budget.target_id)
    if period is not None:
        spent, reserved = period.spent_usd, period.reserved_usd
    else:
        spent, reserved = runs_cost(runs, since=start), Decimal(0)
    lookback = FORECAST_LOOKBACK[Window(budget.window)]
    since = max(start, at - lookback)
    elapsed = max((at - since).total_seconds(), 60.0)
    recent = runs_cost(runs, since=since) if since > start else spent
    rate = float(recent) / elapsed  # USD per second
    forecast = float(spent) + rate * max((end - at).total_seconds(), 0.0)
    limit = float(budget.limit_usd)
    return {
        "window_start": start,
        "window_end": end,
        "spent_usd": round(float(spent), 6),
        "reserved_usd": round(float(reserved), 6),
        "left_usd": round(max(limit - float(spent) - float(reserved), 0.0), 6),
        "used_fraction": round(float(spent) / limit, 4) if limit > 0 else (1.0 if spent > 0 else 0.0),
        "forecast_usd": round(forecast, 6),
        "forecast_exceeds": forecast > limit,
        "alerted_at": period.alerted_at if period else None,
        "exceeded_at": period.exceeded_at if period else None,
        "alert_delivery": (period.alert_delivery or None) if period else None,
    }
