"""Reads for the data flywheel: JSON shapes of feedback, datasets, items and evals; the eval comparison."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef

from evals.models import Dataset, DatasetItem, Eval, EvalResult, Feedback, PublishGate
from runs.models import Run, Step, StepStatus
from trellis.errors import ApplicationError


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def feedback_json(f: Feedback) -> dict:
    return {
        "id": str(f.id),
        "run_id": str(f.run_id),
        "step_id": str(f.step_id) if f.step_id else None,
        "score": f.score,
        "comment": f.comment,
        "source": f.source,
        "by": f.created_by.email if f.created_by_id and f.created_by else None,
        "created_at": _iso(f.created_at),
    }


def _reviewed_node(run: Run, approval_node: str) -> str | None:
    """The node whose edge leads into an approval node: what the approver looked at."""
    for edge in run.executed_graph.get("edges", []):
        if edge.get("target") == approval_node:
            return edge.get("source")
    return None


def approval_feedback(run: Run) -> list[dict]:
    """Approvals and rejections in user_approval steps, as feedback on the step they reviewed."""
    out = []
    steps = list(Step.objects.filter(run=run).order_by("order"))
    for step in steps:
        if step.node_type != "user_approval" or step.status != StepStatus.SUCCEEDED:
            continue
        decision = (step.output or {}).get("decision")
        if decision not in ("approved", "rejected"):
            continue
        reviewed_node = _reviewed_node(run, step.node_id)
        reviewed = next(
            (s for s in reversed(steps) if s.node_id == reviewed_node and (s.order or 0) < (step.order or 0)), None
        )
        out.append(
            {
                "id": f"approval:{step.id}",
                "run_id": str(run.id),
                "step_id": str(reviewed.id) if reviewed else None,
                "score": 1 if decision == "approved" else -1,
                "comment": (step.output or {}).get("comment") or "",
                "source": "approval",
                "by": (step.output or {}).get("by"),
                "created_at": _iso(step.finished_at),
            }
        )
    return out


def run_feedback(*, run: Run) -> list[dict]:
    stored = [feedback_json(f) for f in run.feedback.select_related("created_by").order_by("created_at")]
    return stored + approval_feedback(run)


def dataset_json(d: Dataset, *, item_count: int | None = None) -> dict:
    return {
        "id": str(d.id),
        "workflow": str(d.workflow_id),
        "name": d.name,
        "description": d.description,
        "graders": d.graders,
        "items": item_count if item_count is not None else d.items.filter(deleted_at__isnull=True).count(),
        "created_at": _iso(d.created_at),
        "updated_at": _iso(d.updated_at),
    }


def item_json(i: DatasetItem) -> dict:
    return {
        "id": str(i.id),
        "input": i.input,
        "expected": i.expected,
        "tags": i.tags,
        "source_run": str(i.source_run_id) if i.source_run_id else None,
        "revision": i.revision,
        "created_at": _iso(i.created_at),
        "updated_at": _iso(i.updated_at),
    }


def dataset_items(*, dataset: Dataset) -> list[DatasetItem]:
    return list(dataset.items.filter(deleted_at__isnull=True).order_by("created_at", "id"))


def result_json(r: EvalResult) -> dict:
    return {
        "position": r.position,
        "item_id": str(r.item_id) if r.item_id else None,
        "item_revision": r.item_revision,
        "input": r.input,
        "expected": r.expected,
        "run_id": str(r.run_id) if r.run_id else None,
        "status": r.status,
        "run_status": r.run_status or None,
        "output": r.output,
        "error": r.error,
        "scores": r.scores,
        "passed": r.passed,
        "cost_usd": r.cost_usd,
        "latency_ms": r.latency_ms,
    }


def eval_json(ev: Eval, *, results: bool = False) -> dict:
    body = {
        "id": str(ev.id),
        "workflow": str(ev.workflow_id),
        "dataset": str(ev.dataset_id),
        "dataset_name": ev.dataset.name,
        "version": ev.version.number if ev.version_id and ev.version else None,
        "is_draft": ev.is_draft,
        "checksum": ev.checksum,
        "graders": ev.graders,
        "status": ev.status,
        "purpose": ev.purpose,
        "summary": ev.summary or None,
        "created_at": _iso(ev.created_at),
        "finished_at": _iso(ev.finished_at),
    }
    if results:
        rows = list(ev.results.order_by("position"))
        body["progress"] = {"done": sum(1 for r in rows if r.status == "done"), "items": len(rows)}
        body["items"] = [result_json(r) for r in rows]
    return body


def eval_queryset():
    return Eval.objects.select_related("dataset", "version")


def _side(r: EvalResult | None) -> dict | None:
    if r is None:
        return None
    return {
        "passed": r.passed,
        "scores": {k: v.get("score") for k, v in (r.scores or {}).items()},
        "output": r.output,
        "error": r.error,
        "cost_usd": r.cost_usd,
        "latency_ms": r.latency_ms,
        "run_id": str(r.run_id) if r.run_id else None,
    }


def eval_compare(*, a: Eval, b: Eval) -> dict:
    """Item by item (matched on the dataset item, else position): regressions are items `a` passed and `b`
    failed, improvements the reverse."""

    def key(r: EvalResult):
        return ("item", r.item_id) if r.item_id else ("pos", r.position)

    left = {key(r): r for r in a.results.order_by("position")}
    right = {key(r): r for r in b.results.order_by("position")}
    rows, regressions, improvements = [], 0, 0
    for k in list(left) + [k for k in right if k not in left]:
        ra, rb = left.get(k), right.get(k)
        base = ra or rb
        if ra is not None and rb is not None and ra.passed and not rb.passed:
            change = "regression"
            regressions += 1
        elif ra is not None and rb is not None and not ra.passed and rb.passed:
            change = "improvement"
            improvements += 1
        elif ra is None or rb is None:
            change = "only_a" if rb is None else "only_b"
        else:
            change = "same"
        rows.append(
            {
                "item_id": str(base.item_id) if base.item_id else None,
                "input": base.input,
                "expected": base.expected,
                "a": _side(ra),
                "b": _side(rb),
                "change": change,
            }
        )
    sa, sb = a.summary or {}, b.summary or {}
    return {
        "a": eval_json(a),
        "b": eval_json(b),
        "regressions": regressions,
        "improvements": improvements,
        "delta": {
            "pass_rate": round((sb.get("pass_rate") or 0) - (sa.get("pass_rate") or 0), 4),
            "cost_usd": round((sb.get("cost_usd") or 0) - (sa.get("cost_usd") or 0), 6),
            "p50_ms": (sb["p50_ms"] - sa["p50_ms"])
            if sa.get("p50_ms") is not None and sb.get("p50_ms") is not None
            else None,
        },
        "items": rows,
    }


def gate_json(*, workflow) -> dict | None:
    gate = PublishGate.objects.select_related("dataset").filter(workflow=workflow).first()
    if gate is None:
        return None
    return {"dataset": str(gate.dataset_id), "dataset_name": gate.dataset.name, "min_pass_rate": gate.min_pass_rate}


FEEDBACK_FILTERS = ("up", "down", "any", "none")


def runs_matching(*, workflow, filters: dict) -> list[Run]:
    """The workflow's finished runs matching {status?, version?, feedback?, limit?}, newest first; eval runs
    are never included (their inputs are already a dataset's)."""

    if not isinstance(filters, dict):
        raise ApplicationError("validation_error", "filter must be an object.", [{"field": "filter"}])
    qs = Run.objects.filter(workflow=workflow).exclude(trigger__type="eval")
    status = filters.get("status") or "succeeded"
    qs = qs.filter(status__in=[s for s in str(status).split(",") if s])
    version = filters.get("version")
    if version == "draft":
        qs = qs.filter(is_draft=True)
    elif version not in (None, ""):
        qs = qs.filter(is_draft=False, version__number=version)
    qs = feedback_filter(qs, filters.get("feedback"))
    try:
        limit = max(1, min(int(filters.get("limit") or 1000), 10_000))
    except (TypeError, ValueError):
        raise ApplicationError("validation_error", "limit must be a number.", [{"field": "limit"}]) from None
    return list(qs.order_by("-created_at")[:limit])


def feedback_filter(qs, value):
    """Runs with thumbs up (`up`), thumbs down (`down`), any feedback, or none, on the run's own output."""

    if value in (None, ""):
        return qs
    if value not in FEEDBACK_FILTERS:
        raise ApplicationError(
            "validation_error", f"feedback must be one of {', '.join(FEEDBACK_FILTERS)}.", [{"field": "feedback"}]
        )
    given = Feedback.objects.filter(run=OuterRef("pk"))
    if value == "up":
        return qs.filter(Exists(given.filter(score=1)))
    if value == "down":
        return qs.filter(Exists(given.filter(score=-1)))
    if value == "any":
        return qs.filter(Exists(given))
    return qs.exclude(Exists(given))
