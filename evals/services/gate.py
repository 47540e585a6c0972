"""The publish gate: a workflow may require its draft to pass a dataset at a minimum pass rate before it
is published. Registered in builder's PUBLISH_GATES (see evals/apps.py)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from builder.models import Workflow
from builder.services.graph import graph_checksum
from evals.models import Dataset, Eval, EvalStatus, PublishGate
from evals.services.evals import eval_start, eval_wait
from trellis.errors import ApplicationError

REUSE_WINDOW = dt.timedelta(hours=1)


def publish_gate_set(*, workflow: Workflow, dataset: Dataset | None, min_pass_rate=None) -> PublishGate | None:
    """Turn the gate on (a dataset of this workflow with graders, a rate in 0..1) or off (dataset None)."""
    if dataset is None:
        PublishGate.objects.filter(workflow=workflow).delete()
        return None
    if dataset.workflow_id != workflow.pk:
        raise ApplicationError("validation_error", "The dataset belongs to another workflow.", [{"field": "dataset"}])
    if isinstance(min_pass_rate, bool) or not isinstance(min_pass_rate, int | float) or not 0 <= min_pass_rate <= 1:
        raise ApplicationError(
            "validation_error", "min_pass_rate must be a number from 0 to 1.", [{"field": "min_pass_rate"}]
        )
    if not dataset.graders:
        raise ApplicationError(
            "validation_error",
            "The gate's dataset needs graders: set them on the dataset first.",
            [{"field": "dataset"}],
        )
    with transaction.atomic():
        gate, _ = PublishGate.objects.update_or_create(
            workflow=workflow, defaults={"dataset": dataset, "min_pass_rate": float(min_pass_rate)}
        )
    return gate


def gate_eval(*, workflow: Workflow, gate: PublishGate, by=None) -> Eval:
    """A finished eval of the current draft against the gate's dataset: one less than an hour old with the
    same draft checksum and graders, else a new one (waited for, up to TRELLIS_EVAL_GATE_WAIT_S)."""
    checksum = graph_checksum(workflow.draft_graph)
    recent = (
        Eval.objects.filter(
            workflow=workflow,
            dataset=gate.dataset,
            is_draft=True,
            checksum=checksum,
            status=EvalStatus.SUCCEEDED,
            # Items added or changed since make it another test.
            created_at__gte=max(timezone.now() - REUSE_WINDOW, gate.dataset.updated_at),
        )
        .order_by("-created_at")
        .first()
    )
    if recent is not None and recent.graders == gate.dataset.graders:
        return recent
    ev = eval_start(workflow=workflow, dataset=gate.dataset, version="draft", by=by, purpose="gate")
    return eval_wait(eval_id=ev.pk, timeout_s=settings.EVAL_GATE_WAIT_S)


def publish_gate_check(*, workflow: Workflow, by=None) -> str | None:
    """None without a gate; else the checksum of the draft that passed, or ApplicationError."""
    gate = PublishGate.objects.select_related("dataset").filter(workflow_id=workflow.pk).first()
    if gate is None:
        return None
    current = Workflow.objects.get(pk=workflow.pk)  # the draft as stored now
    try:
        ev = gate_eval(workflow=current, gate=gate, by=by)
    except ApplicationError as exc:
        if exc.code in ("invalid_graph", "workflow_archived"):
            return None  # the publish itself refuses it, with its own error
        raise
    if ev.status == EvalStatus.RUNNING:
        raise ApplicationError(
            "eval_gate_pending",
            f"The publish gate's eval is still running after {settings.EVAL_GATE_WAIT_S:g} s; "
            "publish again when it has finished.",
            [{"eval_id": str(ev.pk)}],
            status=409,
        )
    rate = ev.summary.get("pass_rate", 0.0)
    if rate < gate.min_pass_rate:
        failing = ev.results.filter(passed=False).order_by("position")
        raise ApplicationError(
            "eval_gate_failed",
            f"The draft passes {rate:.0%} of dataset {gate.dataset.name!r}; the publish gate needs "
            f"{gate.min_pass_rate:.0%}.",
            [
                {
                    "eval_id": str(ev.pk),
                    "item_id": str(r.item_id) if r.item_id else None,
                    "position": r.position,
                    "input": r.input,
                    "expected": r.expected,
                    "output": r.output,
                    "scores": r.scores,
                    "error": r.error,
                }
                for r in failing[:100]
            ],
            status=422,
        )
    return ev.checksum
