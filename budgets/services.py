"""Writes for budgets: setting budgets and prices, and the reservation protocol every model call follows.

`budget_reserve` holds a call's estimated cost against every budget that applies (the workspace's, the
run's workflow's, the API token's or chat deployment's, and the run's `max_cost_usd`) with one conditional
UPDATE per counter in one transaction: "add the estimate if spent + reserved + estimate <= limit". The
database decides, so it holds across threads, processes and machines (PostgreSQL re-checks the condition
on the locked row; SQLite runs write transactions one at a time). `budget_settle` swaps the estimate for
the reported cost. Both are plain synchronous functions: async callers wrap them in `sync_to_async`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from functools import lru_cache

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.services import callback_signing_secrets
from budgets import counters
from budgets.models import Budget, BudgetPeriod, ModelPrice, RunCostLimit, Scope, TriggerCostLimit, Window
from budgets.selectors import (
    cached_prices,
    price_at,
    prices_cache_clear,
    runs_cost,
    scope_runs,
    window_bounds,
    window_start,
)
from builder.services.audit import audit_record
from runs.llm.prices import MILLION, Price, price_for
from runs.models import Run
from runs.persistence import sql
from runs.persistence.sql import async_commits
from runs.triggers.callbacks import _signed_headers, callback_url_check, shown_url
from trellis.errors import ApplicationError
from trellis.inflight import InFlight
from trellis.net import BlockedURLError, guarded_request

log = logging.getLogger("trellis.budgets")

NANO = Decimal("0.000000001")
MAX_USD = Decimal("1000000000")
SCOPE_LABELS = {
    Scope.WORKSPACE: "the workspace budget",
    Scope.WORKFLOW: "the workflow's budget",
    Scope.API_TOKEN: "the API token's budget",
    Scope.CHAT_DEPLOYMENT: "the chat deployment's budget",
}


class BudgetRefused(Exception):
    """A model call that must not be sent: `budget_exceeded` or `price_unknown`."""

    def __init__(self, code: str, message: str, details: dict):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


@dataclass(frozen=True)
class Hold:
    budget_id: uuid.UUID
    starts_on: dt.date


@dataclass
class Reservation:
    """What one model call holds; give it back to `budget_settle` exactly once."""

    workspace_id: str
    run_id: str | None
    model: str | None
    priced: bool
    at: dt.datetime
    price: Price | None = None
    estimate: Decimal = Decimal(0)
    holds: list[Hold] = field(default_factory=list)
    run_capped: bool = False

    @property
    def holds_anything(self) -> bool:
        return bool(self.holds) or self.run_capped


@dataclass(frozen=True)
class _RunFacts:
    workflow_id: str
    token_id: str | None
    deployment_id: str | None
    capped: bool


class _Refused(Exception):
    def __init__(self, what: tuple):
        self.what = what


# --- the reservation protocol -----------------------------------------------------------------


# Per process, per run: read once (None of it changes after the run is created). A plain dict rather than an
# lru_cache so that `budget_reserve_cached` can look without reading.
_FACTS_KEPT = 4096
_facts: dict[str, _RunFacts | None] = {}
_UNKNOWN = object()


def _run_facts(run_id: str) -> _RunFacts | None:
    """What decides which budgets apply to a run."""
    found = _facts.get(run_id, _UNKNOWN)
    if found is _UNKNOWN:
        found = _read_run_facts(run_id)
        _keep_facts(run_id, found)
    return found


def _keep_facts(run_id: str, facts: _RunFacts | None) -> None:
    if len(_facts) >= _FACTS_KEPT:
        _facts.clear()  # a crude bound: a miss costs one read
    _facts[run_id] = facts


def _read_run_facts(run_id: str) -> _RunFacts | None:
    # Hand-written (read at a run's first model call, on every run): building the ORM's queries cost more than
    # running them.
    try:
        run_pk = sql.prep(Run._meta.pk, uuid.UUID(str(run_id)))
    except ValueError:  # not a run id (executors called by hand)
        return None
    row = sql.fetch_one(_facts_statement(connection.vendor), [run_pk])
    if row is None:
        return None
    workflow_id, trigger, cap, trigger_cap = sql.converted(_FACT_FIELDS, row)
    if cap is None and trigger_cap is not None:
        # A run of a trigger with max_cost_usd gets its own cap, made at its first model call.
        RunCostLimit.objects.get_or_create(run_id=run_id, defaults={"max_cost_usd": trigger_cap})
        cap = trigger_cap
    return _facts_of(workflow_id, trigger, cap)


def _facts_of(workflow_id, trigger, cap) -> _RunFacts:
    trigger = trigger if isinstance(trigger, dict) else {}
    token = trigger.get("token_id")
    deployment = trigger.get("deployment_id")
    return _RunFacts(
        workflow_id=str(workflow_id),
        token_id=str(token) if token else None,
        deployment_id=str(deployment) if deployment else None,
        capped=cap is not None,
    )


_FACT_FIELDS = (
    Run._meta.get_field("workflow"),
    Run._meta.get_field("trigger"),
    RunCostLimit._meta.get_field("max_cost_usd"),
    TriggerCostLimit._meta.get_field("max_cost_usd"),
)
# A trigger id as the run's `trigger` JSON holds it, turned into the cost limits' key column.
_TRIGGER_KEY = {
    # Only a well-formed UUID is cast (a malformed one would fail the statement): the JSON is Trellis's own.
    "postgresql": (
        "CASE WHEN {run}.{trigger} ->> 'trigger_id' ~ "
        "'^[0-9a-fA-F]{{8}}-?[0-9a-fA-F]{{4}}-?[0-9a-fA-F]{{4}}-?[0-9a-fA-F]{{4}}-?[0-9a-fA-F]{{12}}$' "
        "THEN ({run}.{trigger} ->> 'trigger_id')::uuid END"
    ),
    "sqlite": "replace(json_extract({run}.{trigger}, '$.trigger_id'), '-', '')",  # UUIDs are stored as 32 hex digits
}


@lru_cache(maxsize=2)
def _facts_statement(vendor: str) -> str:
    """The run's workflow and trigger, its own cost cap and its trigger's, in one read."""
    quote = connection.ops.quote_name
    workflow, trigger = (quote(f.column) for f in _FACT_FIELDS[:2])
    return (
        f"SELECT r.{workflow}, r.{trigger}, {run_caps_sql('r', vendor)} FROM {sql.table(Run)} r "
        f"WHERE r.{quote(Run._meta.pk.column)} = %s"
    )


def run_caps_sql(run_alias: str, vendor: str = "postgresql") -> str:
    """Two columns for a statement that reads runs (`run_alias`): the run's own cost cap and its trigger's. The
    facts read above uses them, and so does a queue worker's lease on the runs it starts: `remember_run_facts`
    takes them with the run, so that the run's first model call reads nothing."""
    quote = connection.ops.quote_name
    _, trigger, cap, trigger_cap = (quote(f.column) for f in _FACT_FIELDS)
    run_id = quote(RunCostLimit._meta.get_field("run").column)
    run_pk = f"{run_alias}.{quote(Run._meta.pk.column)}"
    trigger_key = _TRIGGER_KEY[vendor].format(run=run_alias, trigger=trigger)
    return (
        f"(SELECT c.{cap} FROM {sql.table(RunCostLimit)} c WHERE c.{run_id} = {run_pk}), "
        f"(SELECT t.{trigger_cap} FROM {sql.table(TriggerCostLimit)} t "
        f"WHERE t.{quote(TriggerCostLimit._meta.pk.column)} = {trigger_key})"
    )


def remember_run_facts(run: Run, cap, trigger_cap) -> None:
    """A run's facts from its row and the two columns of `run_caps_sql`. A run whose trigger has a cap and that
    has none of its own yet is left to its first model call, which makes it one."""
    if cap is None and trigger_cap is not None:
        return
    _keep_facts(str(run.pk), _facts_of(run.workflow_id, run.trigger, cap))


# The workspace's budgets, per process for BUDGET_CACHE_S: which budgets exist (a new or removed budget
# reaches other processes within that time; this process's own writes clear it). Limits are not taken from
# here: each window's counter row carries its budget's limit, updated with the budget.
_budgets_cache: dict[str, tuple[float, list[tuple]]] = {}


def budgets_cache_clear(workspace_id=None) -> None:
    if workspace_id is None:
        _budgets_cache.clear()
    else:
        _budgets_cache.pop(str(workspace_id), None)


def _workspace_budgets(workspace_id) -> list[tuple]:
    key = str(workspace_id)
    now = time.monotonic()
    cached = _budgets_cache.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    rows = list(
        Budget.objects.filter(workspace_id=workspace_id)
        .order_by("id")
        .values_list("id", "scope", "target_id", "window", "limit_usd", "alert_at", "workspace__time_zone")
    )
    _budgets_cache[key] = (now + settings.BUDGET_CACHE_S, rows)
    return rows


def _applicable(workspace_id, facts: _RunFacts | None) -> list[tuple]:
    return _applying(_workspace_budgets(workspace_id), facts)


def _applying(rows: list[tuple], facts: _RunFacts | None) -> list[tuple]:
    wanted = {(Scope.WORKSPACE, "")}
    if facts is not None:
        wanted.add((Scope.WORKFLOW, facts.workflow_id))
        if facts.token_id:
            wanted.add((Scope.API_TOKEN, facts.token_id))
        if facts.deployment_id:
            wanted.add((Scope.CHAT_DEPLOYMENT, facts.deployment_id))
    return [row for row in rows if (row[1], row[2]) in wanted]


def _usd(value: Decimal) -> Decimal:
    return value.quantize(NANO, rounding=ROUND_CEILING)


def _periods(holds) -> Q:
    where = Q(pk__in=[])
    for hold in holds:
        where |= Q(budget_id=hold.budget_id, starts_on=hold.starts_on)
    return where


def budget_warm(*, workspace_id, run_id: str | None) -> None:
    """Read what decides whether a run's model calls hold anything (the run's facts, the workspace's budgets)
    into this process's caches, on a trip to the database made anyway (the agent's provider lookup), so that
    `budget_reserve_cached` can answer the first call without another."""
    if workspace_id:
        if run_id:
            _run_facts(str(run_id))
        _workspace_budgets(workspace_id)


def budget_reserve_cached(*, workspace_id, run_id: str | None, model: str | None, priced: bool = True):
    """`budget_reserve`'s answer when this process's caches alone show that nothing is to be held — no budget
    applies (the same cache `budget_reserve` reads, cleared by this process's budget writes) and the run has no
    cost cap —, without touching the database (callable on an event loop). None when it cannot tell or something
    applies: then call `budget_reserve`."""
    at = timezone.now()
    reservation = Reservation(workspace_id=str(workspace_id or ""), run_id=run_id, model=model, priced=priced, at=at)
    if not priced or not workspace_id:
        return reservation
    facts = _facts.get(str(run_id), _UNKNOWN) if run_id else None
    cached = _budgets_cache.get(str(workspace_id))
    if facts is _UNKNOWN or cached is None or cached[0] <= time.monotonic():
        return None
    if (facts is not None and facts.capped) or _applying(cached[1], facts):
        return None
    return reservation


def budget_reserve(
    *,
    workspace_id,
    run_id: str | None,
    model: str | None,
    prompt_tokens: int | Callable[[], int],
    max_output_tokens: int | None,
    priced: bool = True,
    at: dt.datetime | None = None,
) -> Reservation:
    """Hold the estimated cost of one model call against every budget that applies, or raise BudgetRefused
    (nothing held, nothing to settle). `prompt_tokens` may be a callable: it is counted only when a
    budget applies. Calls of an unpriced provider (the local test model) cost nothing and hold nothing."""
    at = at or timezone.now()
    reservation = Reservation(workspace_id=str(workspace_id or ""), run_id=run_id, model=model, priced=priced, at=at)
    if not priced or not workspace_id:
        return reservation
    facts = _run_facts(str(run_id)) if run_id else None
    budgets = _applicable(workspace_id, facts)
    capped = bool(facts and facts.capped)
    if not budgets and not capped:
        return reservation
    price = price_at(workspace_id=workspace_id, model=model, at=at)
    if price is None:
        names = [SCOPE_LABELS[Scope(b[1])] for b in budgets] + (["the run's max_cost_usd"] if capped else [])
        raise BudgetRefused(
            "price_unknown",
            f"No price is known for model {model!r}, so this call cannot be held against {', '.join(names)}; "
            "nothing was sent. An admin can add the model's price in Settings → Budgets → Model prices.",
            {"model": model},
        )
    tokens = prompt_tokens() if callable(prompt_tokens) else int(prompt_tokens)
    out_tokens = int(max_output_tokens or settings.BUDGET_OUTPUT_TOKENS_ESTIMATE)
    estimate = _usd((tokens * price.input + out_tokens * price.max_output) / MILLION)
    reservation.price, reservation.estimate = price, estimate
    holds = [Hold(b[0], window_start(b[3], b[6], at)) for b in budgets]
    _async_commits()
    for attempt in range(3):
        try:
            # One statement holds the estimate in every budget's counter, each row checking its own limit;
            # a transaction is needed only to undo a partial hold (several counters, or the run's cap too).
            several = len(holds) + capped > 1
            with transaction.atomic() if several else _no_transaction():
                if holds and counters.hold(holds, estimate) < len(holds):
                    raise _Partial()
                if capped and not counters.cap_hold(run_id, estimate):
                    raise _Refused(("run",))
            reservation.holds, reservation.run_capped = holds, capped
            return reservation
        except _Partial:
            # Rolled back. Either a window's counter does not exist yet (the first call of a window: make it,
            # outside the reservation's transaction so that it stays even if this call is refused), or a
            # budget is full.
            rows = {(r.budget_id, r.starts_on): r for r in BudgetPeriod.objects.filter(_periods(holds))}
            if len(rows) < len(holds):
                for budget_id, scope, target_id, window, limit, alert_at, tz_name in budgets:
                    _period_ensure(budget_id, scope, target_id, window, tz_name, limit, alert_at, at, workspace_id)
                continue
            full = [h for h in holds if _left(rows[(h.budget_id, h.starts_on)]) < estimate]
            if full or attempt == 2:
                hold = (full or holds)[0]
                raise _refusal(("budget", hold.budget_id, hold.starts_on), reservation) from None
            # it fits now (a concurrent call settled meanwhile): try again
        except _Refused as refused:
            raise _refusal(refused.what, reservation) from None
    raise _refusal(("budget", holds[0].budget_id, holds[0].starts_on), reservation)


def _async_commits() -> None:
    """Counter writes follow the engine's durability choice (TRELLIS_RUN_SYNCHRONOUS_COMMIT, runs/persistence/sql.py):
    by default on PostgreSQL they do not wait for the WAL flush, which costs 5-20 ms on ordinary disks. Only a
    crash of the database server itself can then lose the last fraction of a second of holds (and with them
    the steps that made them); RUN_SYNCHRONOUS_COMMIT=true makes every hold durable before the call is sent."""

    async_commits()


def _left(row: BudgetPeriod) -> Decimal:
    return row.limit_usd - row.spent_usd - row.reserved_usd


class _no_transaction:  # noqa: N801 - used like transaction.atomic()
    def __enter__(self):
        return self

    def __exit__(self, *exc) -> bool:
        return False


class _Partial(Exception):
    pass


def _period_ensure(budget_id, scope, target_id, window, tz_name, limit, alert_at, at, workspace_id) -> None:
    """The counter of one budget's current window. It starts with what the scope already spent in the window
    (a budget set mid-month counts the month so far), and carries the budget's limit and alert threshold."""
    starts_on = window_start(window, tz_name, at)
    if BudgetPeriod.objects.filter(budget_id=budget_id, starts_on=starts_on).exists():
        return
    start, _ = window_bounds(window, tz_name, starts_on)
    spent = runs_cost(scope_runs(workspace_id=workspace_id, scope=scope, target_id=target_id), since=start)
    BudgetPeriod.objects.get_or_create(
        budget_id=budget_id,
        starts_on=starts_on,
        defaults={"spent_usd": spent, "limit_usd": limit, "alert_threshold_usd": _usd(limit * alert_at)},
    )


def money(value: Decimal) -> str:
    """Dollars with cents, or with the digits a sub-cent amount needs ($0.000069)."""
    if value == 0:
        return "$0.00"
    if abs(value) >= Decimal("0.01"):
        return f"${value:,.2f}"
    return "$" + f"{value:.9f}".rstrip("0")


def _refusal(what: tuple, reservation: Reservation) -> BudgetRefused:
    estimate = reservation.estimate
    if what[0] == "run":
        cap = RunCostLimit.objects.filter(run_id=reservation.run_id).first()
        left = max((cap.max_cost_usd - cap.spent_usd - cap.reserved_usd) if cap else Decimal(0), Decimal(0))
        limit = cap.max_cost_usd if cap else Decimal(0)
        return BudgetRefused(
            "budget_exceeded",
            f"Budget exceeded: this model call (estimated {money(estimate)}) would cross the run's max_cost_usd "
            f"of {money(limit)}; {money(left)} is left. Nothing was sent to the model.",
            {
                "budget": "run",
                "scope": "run",
                "limit_usd": float(limit),
                "left_usd": float(left),
                "estimate_usd": float(estimate),
            },
        )
    _, budget_id, starts_on = what
    period = BudgetPeriod.objects.filter(budget_id=budget_id, starts_on=starts_on).first()
    budget = Budget.objects.filter(pk=budget_id).first()
    limit = period.limit_usd if period else (budget.limit_usd if budget else Decimal(0))
    left = max(_left(period), Decimal(0)) if period else limit
    window = budget.window if budget else Window.MONTH
    scope = budget.scope if budget else Scope.WORKSPACE
    # The first refusal of a window goes into the audit trail (the banner shows it too).
    if period is not None and BudgetPeriod.objects.filter(pk=period.pk, exceeded_at__isnull=True).update(
        exceeded_at=timezone.now()
    ):
        _audit(
            workspace_id=reservation.workspace_id,
            action="budget.exceeded",
            budget_id=budget_id,
            data={"scope": scope, "window_start": starts_on.isoformat(), "limit_usd": float(limit)},
        )
    label = SCOPE_LABELS[Scope(scope)]
    return BudgetRefused(
        "budget_exceeded",
        f"Budget exceeded: this model call (estimated {money(estimate)}) would cross {label} of "
        f"{money(limit)} per {window}; {money(left)} is left in the window that began {starts_on.isoformat()}. "
        "Nothing was sent to the model.",
        {
            "budget": str(budget_id),
            "scope": scope,
            "target_id": budget.target_id if budget else "",
            "window": window,
            "window_start": starts_on.isoformat(),
            "limit_usd": float(limit),
            "left_usd": float(left),
            "estimate_usd": float(estimate),
        },
    )


def budget_settle(
    *,
    reservation: Reservation,
    model: str | None = None,
    input_tokens: int = 0,
    output_tokens: int = 0,
    cached_input_tokens: int = 0,
    reasoning_tokens: int = 0,
    failed: bool = False,
    keep_estimate: bool = False,
    prices: list | None = None,
) -> float | None:
    """Replace the reservation's estimate with the call's cost and return that cost (None when the price is
    unknown). `failed`: the call produced no usage; `keep_estimate` counts the estimate as spent (a call cut
    off mid-answer may still be billed), else the hold is released. `prices`: the workspace's, from
    `cached_prices` (else read)."""
    if not reservation.priced:
        return 0.0
    if failed:
        cost = reservation.estimate if keep_estimate else Decimal(0)
    else:
        price = reservation.price
        if price is None and reservation.workspace_id:
            price = price_at(
                workspace_id=reservation.workspace_id, model=reservation.model, at=reservation.at, rows=prices
            )
            if price is None and model and model != reservation.model:
                price = price_at(workspace_id=reservation.workspace_id, model=model, at=reservation.at, rows=prices)
        if price is None and not reservation.workspace_id:
            price = price_for(reservation.model) or price_for(model)
        if price is None:
            return None
        cost = _usd(
            price.cost(
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                cached_input_tokens=cached_input_tokens,
                reasoning_tokens=reasoning_tokens,
            )
        )
    if reservation.holds_anything:
        _settle_counters(reservation, cost)
    return None if failed else float(cost)


NOT_CACHED = object()


def budget_settle_cached(*, reservation: Reservation, **usage) -> float | None | object:
    """`budget_settle` without touching the database (callable on an event loop) when the reservation holds nothing
    (no budget applies, the run has no cap) and the prices it needs are in this process's cache; else NOT_CACHED:
    then call `budget_settle`. Spares a model call's answer a trip to the run's thread before its step finishes."""
    if reservation.holds_anything:
        return NOT_CACHED
    prices = None
    if reservation.priced and reservation.price is None and reservation.workspace_id and not usage.get("failed"):
        prices = cached_prices(reservation.workspace_id)
        if prices is None:
            return NOT_CACHED
    return budget_settle(reservation=reservation, prices=prices, **usage)


def _settle_counters(reservation: Reservation, cost: Decimal) -> None:
    # Single statements, each atomic by itself: no transaction round trips on the path of every call.
    fired = []
    if reservation.holds:
        fired = counters.settle(reservation.holds, reservation.estimate, cost, timezone.now())
    if reservation.run_capped:
        counters.cap_settle(reservation.run_id, reservation.estimate, cost)
    # Once per window: only the settle that first brought spent to the threshold set alerted_at.
    if fired:
        for period in BudgetPeriod.objects.filter(pk__in=fired).select_related("budget"):
            _alert_fire(reservation.workspace_id, period)


# --- alerts -----------------------------------------------------------------------------------------


def _audit(*, workspace_id, action: str, budget_id, data: dict) -> None:
    audit_record(workspace=workspace_id, actor=None, action=action, target=("budget", budget_id), data=data)


def _alert_fire(workspace_id, period: BudgetPeriod) -> None:
    budget = period.budget
    _audit(
        workspace_id=workspace_id,
        action="budget.alert",
        budget_id=budget.pk,
        data={
            "scope": budget.scope,
            "target_id": budget.target_id,
            "window": budget.window,
            "window_start": period.starts_on.isoformat(),
            "limit_usd": float(period.limit_usd),
            "alert_at": float(budget.alert_at),
            "spent_usd": float(period.spent_usd),
        },
    )
    if budget.alert_webhook_url:
        BudgetPeriod.objects.filter(pk=period.pk).update(alert_delivery={"state": "pending", "attempts": 0})
        transaction.on_commit(lambda: _submit_alert(period.pk))


_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="trellis-budget-alert")
_in_flight = InFlight()


def _submit_alert(period_id) -> None:
    _in_flight.add(_pool.submit(_deliver_alert, period_id))


def inline_wait_idle(timeout_s: float) -> bool:
    """Wait for alert webhooks being sent (tests call it before they empty the database)."""
    return _in_flight.wait_idle(timeout_s)


def alert_payload(period: BudgetPeriod) -> dict:
    budget = period.budget
    return {
        "type": "budget.alert",
        "timestamp": timezone.now().isoformat().replace("+00:00", "Z"),
        "data": {
            "budget_id": str(budget.pk),
            "workspace_id": str(budget.workspace_id),
            "scope": budget.scope,
            "target_id": budget.target_id,
            "window": budget.window,
            "window_start": period.starts_on.isoformat(),
            "limit_usd": float(budget.limit_usd),
            "alert_at": float(budget.alert_at),
            "spent_usd": float(period.spent_usd),
        },
    }


def _deliver_alert(period_id) -> None:
    """POST the alert, signed with Standard Webhooks using the workspace's callback signing secret, through
    the SSRF guard; a few attempts, the outcome recorded on the period."""

    close_old_connections()
    try:
        period = BudgetPeriod.objects.select_related("budget").get(pk=period_id)
        url = period.budget.alert_webhook_url
        body = json.dumps(alert_payload(period), separators=(",", ":")).encode()
        msg_id = f"budget_{period.budget_id.hex}_{period.starts_on.isoformat()}"
        outcome: dict = {}
        backoff = list(settings.BUDGET_ALERT_BACKOFF_S)
        for attempt in range(1, len(backoff) + 2):
            secrets = callback_signing_secrets(workspace_id=period.budget.workspace_id)
            headers = {
                "content-type": "application/json",
                "user-agent": "Trellis-Webhooks/1",
                **_signed_headers(secrets, msg_id, body),
            }
            outcome = {"state": "failed", "attempts": attempt, "status_code": None, "error": "", "url": shown_url(url)}
            retryable = True
            try:
                response = guarded_request(
                    "POST",
                    url,
                    headers=headers,
                    content=body,
                    timeout_s=settings.CALLBACK_TIMEOUT_S,
                    max_bytes=64 * 1024,
                    max_redirects=0,
                )
                outcome["status_code"] = response.status_code
                if 200 <= response.status_code < 300:
                    outcome["state"] = "delivered"
                else:
                    outcome["error"] = f"The alert URL answered {response.status_code}."
            except BlockedURLError as exc:
                outcome["error"], retryable = str(exc), False
            except Exception as exc:  # network errors are worth another attempt
                outcome["error"] = type(exc).__name__
            BudgetPeriod.objects.filter(pk=period_id).update(alert_delivery=outcome)
            if outcome["state"] == "delivered" or not retryable or attempt > len(backoff):
                break
            time.sleep(backoff[attempt - 1])
        log.log(
            logging.INFO if outcome.get("state") == "delivered" else logging.WARNING,
            "budget alert %s: %s after %s attempt(s) %s",
            msg_id,
            outcome.get("state"),
            outcome.get("attempts"),
            outcome.get("error") or outcome.get("status_code"),
        )
    except Exception:
        log.exception("budget alert for period %s failed", period_id)
    finally:
        close_old_connections()


# --- managing budgets and prices ----------------------------------------------------------------


def _decimal(value, field: str, *, minimum: Decimal, maximum: Decimal, allow_min: bool = True) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ApplicationError("validation_error", f"{field} must be a number.", [{"field": field}])
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ApplicationError("validation_error", f"{field} must be a number.", [{"field": field}]) from None
    if not number.is_finite() or number > maximum or number < minimum or (not allow_min and number == minimum):
        bound = ">" if not allow_min else ">="
        raise ApplicationError(
            "validation_error",
            f"{field} must be {bound} {minimum} and <= {maximum}.",
            [{"field": field, "message": "Out of range."}],
        )
    return number


def max_cost_check(value) -> Decimal | None:
    """The `max_cost_usd` of a run start request: a positive number of dollars, or None."""
    if value is None or value == "":
        return None
    return _usd(_decimal(value, "max_cost_usd", minimum=Decimal(0), maximum=MAX_USD, allow_min=False))


def run_cost_limit_row(*, run, max_cost_usd: Decimal) -> RunCostLimit:
    """The row that caps one run's spend; stored together with the run (runs.services.run_start with_rows)."""
    return RunCostLimit(run_id=run.pk, max_cost_usd=max_cost_usd)


@transaction.atomic
def budget_set(
    *,
    workspace,
    scope: str,
    target_id: str = "",
    window: str,
    limit_usd,
    alert_at=Decimal("0.8"),
    alert_webhook_url: str = "",
    by=None,
) -> Budget:
    """Create or change the budget of one scope (the workspace, a workflow, an API token, a chat deployment)."""

    if window not in Window.values:
        raise ApplicationError(
            "validation_error", 'window must be "month" or "day".', [{"field": "window", "message": "Unknown window."}]
        )
    limit = _usd(_decimal(limit_usd, "limit_usd", minimum=Decimal(0), maximum=MAX_USD))
    alert = _decimal(0.8 if alert_at is None else alert_at, "alert_at", minimum=Decimal(0), maximum=Decimal(1))
    alert = alert.quantize(Decimal("0.001"))
    try:
        url = callback_url_check(alert_webhook_url or "")
    except ApplicationError as exc:
        raise ApplicationError(
            "validation_error",
            exc.message.replace("callback_url", "alert_webhook_url"),
            [{"field": "alert_webhook_url", "message": exc.message}],
        ) from None
    budget, created = Budget.objects.select_for_update().get_or_create(
        workspace=workspace,
        scope=scope,
        target_id=str(target_id),
        defaults={"window": window, "limit_usd": limit, "alert_at": alert, "alert_webhook_url": url, "created_by": by},
    )
    before = None
    if not created:
        before = {"window": budget.window, "limit_usd": float(budget.limit_usd), "alert_at": float(budget.alert_at)}
        budget.window, budget.limit_usd, budget.alert_at, budget.alert_webhook_url = window, limit, alert, url
        budget.save(update_fields=["window", "limit_usd", "alert_at", "alert_webhook_url", "updated_at"])
        # The counters check their own copy of the limit: a change applies to the next call everywhere.
        budget.periods.update(limit_usd=limit, alert_threshold_usd=_usd(limit * alert))
    transaction.on_commit(lambda: budgets_cache_clear(workspace.pk))

    audit_record(
        workspace=workspace,
        actor=by,
        action="budget.set",
        target=("budget", budget.pk),
        data={
            "scope": scope,
            "target_id": str(target_id),
            "window": window,
            "limit_usd": float(limit),
            "alert_at": float(alert),
            "before": before,
        },
    )
    return budget


@transaction.atomic
def budget_delete(*, budget: Budget, by=None) -> None:
    audit_record(
        workspace=budget.workspace_id,
        actor=by,
        action="budget.deleted",
        target=("budget", budget.pk),
        data={"scope": budget.scope, "target_id": budget.target_id, "limit_usd": float(budget.limit_usd)},
    )
    workspace_id = budget.workspace_id
    budget.delete()
    transaction.on_commit(lambda: budgets_cache_clear(workspace_id))


def _price(value, field: str, *, required: bool) -> Decimal | None:
    if value is None and not required:
        return None
    if value is None:
        raise ApplicationError("validation_error", f"{field} is required.", [{"field": field}])
    return _decimal(value, field, minimum=Decimal(0), maximum=Decimal(100000))


@transaction.atomic
def model_price_add(
    *,
    workspace,
    model: str,
    input_per_1m,
    output_per_1m,
    cached_input_per_1m=None,
    reasoning_per_1m=None,
    effective_from: dt.datetime | None = None,
    by=None,
) -> ModelPrice:
    """A workspace price for `model` from `effective_from` (default: now) on. Costs already recorded keep the
    price that was in force when the call was made."""
    model = (model or "").strip() if isinstance(model, str) else ""
    if not model or len(model) > 200:
        raise ApplicationError("validation_error", "model must be a name of 1 to 200 characters.", [{"field": "model"}])
    effective_from = effective_from or timezone.now()
    row, _ = ModelPrice.objects.update_or_create(
        workspace=workspace,
        model=model,
        effective_from=effective_from,
        defaults={
            "input_per_1m": _price(input_per_1m, "input", required=True),
            "output_per_1m": _price(output_per_1m, "output", required=True),
            "cached_input_per_1m": _price(cached_input_per_1m, "cached_input", required=False),
            "reasoning_per_1m": _price(reasoning_per_1m, "reasoning", required=False),
            "created_by": by,
        },
    )
    transaction.on_commit(lambda: prices_cache_clear(workspace.pk))

    audit_record(
        workspace=workspace,
        actor=by,
        action="model_price.set",
        target=("model_price", row.pk),
        data={
            "model": model,
            "input": float(row.input_per_1m),
            "output": float(row.output_per_1m),
            "effective_from": effective_from.isoformat(),
        },
    )
    return row


@transaction.atomic
def model_prices_add(*, workspace, items: list[dict], by=None) -> list[ModelPrice]:
    """Several prices at once (all or none): items of {model, input, output, cached_input?, reasoning?,
    effective_from?}."""
    return [
        model_price_add(
            workspace=workspace,
            model=item["model"],
            input_per_1m=item["input"],
            output_per_1m=item["output"],
            cached_input_per_1m=item.get("cached_input"),
            reasoning_per_1m=item.get("reasoning"),
            effective_from=item.get("effective_from"),
            by=by,
        )
        for item in items
    ]


def trigger_max_cost_set(*, trigger, max_cost_usd, by=None) -> TriggerCostLimit | None:
    """The `max_cost_usd` of each run the trigger starts from now on (None removes it)."""

    value = max_cost_check(max_cost_usd)
    with transaction.atomic():
        if value is None:
            TriggerCostLimit.objects.filter(trigger=trigger).delete()
            row = None
        else:
            row, _ = TriggerCostLimit.objects.update_or_create(trigger=trigger, defaults={"max_cost_usd": value})
        audit_record(
            workspace=trigger.workspace_id,
            actor=by,
            action="trigger.max_cost_set",
            target=("trigger", trigger.pk),
            data={"max_cost_usd": None if value is None else float(value)},
        )
    return row
