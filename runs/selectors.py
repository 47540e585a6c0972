"""Reads for runs: keyset-paginated lists, details with steps, stored events, and the run JSON shape."""

from __future__ import annotations

import base64
import datetime as dt
import uuid

from django.db.models import Q, QuerySet

from evals.selectors import feedback_filter
from runs.models import Run, RunEvent, Step
from runs.triggers.callbacks import callback_json

MAX_PAGE = 200
# What run.trigger["type"] holds: manual/api (runs/apis.py), webhook and schedule (runs/triggers/),
# openai (the OpenAI-compatible endpoint), rerun (runs/services.py), chat (chat/: a chat deployment), eval (evals/).
RUN_TRIGGER_TYPES = ("manual", "api", "webhook", "schedule", "openai", "rerun", "chat", "eval")
# Runs an eval started (evals/): listed only when asked for by trigger, so they do not crowd the run list.
HIDDEN_TRIGGER_TYPES = ("eval",)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def step_json(step: Step) -> dict:
    return {
        "id": str(step.id),
        "node_id": step.node_id,
        "node_type": step.node_type,
        "attempt": step.attempt,
        "iteration": step.iteration,
        "status": step.status,
        "input": step.input,
        "output": step.output,
        "error": step.error,
        "port": step.port,
        "wait": step.wait,
        "started_at": _iso(step.started_at),
        "finished_at": _iso(step.finished_at),
        "duration_ms": step.duration_ms,
        "usage": step.usage,
    }


def run_json(run: Run, *, steps: bool = True) -> dict:
    usage = run.usage or {}
    out = {
        "id": str(run.id),
        "workflow": str(run.workflow_id),
        "version": run.version.number if run.version_id and run.version else None,
        "is_draft": run.is_draft,
        "status": run.status,
        "input": run.input,
        "output": run.output,
        "error": run.error,
        "trigger": run.trigger,
        "created_at": _iso(run.created_at),
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "usage": {
            "input_tokens": usage.get("input_tokens", 0),
            "output_tokens": usage.get("output_tokens", 0),
            "cost_usd": usage.get("cost_usd", 0.0),
        },
        "last_seq": run.last_seq,
    }
    if usage.get("price_unknown"):
        out["usage"]["price_unknown"] = True  # cost_usd counts the calls with a known price only
    if steps:  # the detail shape (lists leave these out: a query or two per run)
        out["steps"] = [step_json(s) for s in run_steps(run=run)]
        out["callback"] = callback_json(run)
    return out


def run_steps(*, run: Run) -> list[Step]:
    """Steps in execution order: finished ones by their log position, then those still open."""
    items = list(Step.objects.filter(run=run))
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    items.sort(key=lambda s: (s.order is None, s.order or 0, s.started_at or far))
    return items


def run_queryset() -> QuerySet[Run]:
    # Lists and details show the version number, never a graph: don't load the (large) graphs.
    return Run.objects.select_related("version").defer("graph", "version__graph")


def encode_cursor(run: Run) -> str:
    raw = f"{run.created_at.isoformat()}|{run.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, pk = raw.split("|", 1)
        return dt.datetime.fromisoformat(created), uuid.UUID(pk)
    except (ValueError, UnicodeDecodeError):
        return None


def run_list(
    *,
    workspace_id,
    workflow_id=None,
    status: str | None = None,
    version: int | str | None = None,
    trigger: list[str] | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    feedback: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[Run], str | None]:
    """Newest first, keyset-paginated on (created_at, id). Returns the page and the next cursor.

    `version` is a version number or "draft"; `trigger` the trigger types to keep; `since` is inclusive and
    `until` exclusive. Every filter is a plain WHERE clause, so a cursor stays valid while the filters stay
    the same, and the walk stays on run_workspace_created newest-first: the date bounds and the cursor
    bound created_at in that index, the rest is checked row by row until the page is full."""
    qs = run_queryset().filter(workspace_id=workspace_id)
    if workflow_id:
        qs = qs.filter(workflow_id=workflow_id)
    if status:
        qs = qs.filter(status__in=[s for s in status.split(",") if s])
    if version == "draft":
        qs = qs.filter(is_draft=True)
    elif version is not None:
        qs = qs.filter(is_draft=False, version__number=version)
    if trigger:
        qs = qs.filter(trigger__type__in=trigger)
    else:
        # Spelled with isnull: a run without a trigger type must not vanish in NOT (NULL IN (…)).
        qs = qs.filter(Q(trigger__type__isnull=True) | ~Q(trigger__type__in=HIDDEN_TRIGGER_TYPES))
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if until is not None:
        qs = qs.filter(created_at__lt=until)
    if feedback:
        qs = feedback_filter(qs, feedback)
    if cursor:
        position = decode_cursor(cursor)
        if position is not None:
            created, pk = position
            # created_at <= created is implied by the OR, but spelled out it bounds the index scan,
            # so a page deep in the history does not walk every newer row first.
            qs = qs.filter(Q(created_at__lte=created), Q(created_at__lt=created) | Q(created_at=created, pk__lt=pk))
    limit = max(1, min(int(limit), MAX_PAGE))
    page = list(qs.order_by("-created_at", "-id")[: limit + 1])
    next_cursor = encode_cursor(page[limit - 1]) if len(page) > limit else None
    return page[:limit], next_cursor


def run_events(*, run_id, after: int = 0, limit: int | None = None) -> list[dict]:
    qs = RunEvent.objects.filter(run_id=run_id, seq__gt=after).order_by("seq")
    if limit:
        qs = qs[:limit]
    return [e.as_message() for e in qs]
