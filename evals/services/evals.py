"""Evals: run a dataset's items as runs (trigger.type "eval") through the normal run machinery, a few at
a time, grade each finished run, and summarise.

The eval advances whenever one of its runs finishes (a run-finishing listener, after the commit): the
finished results are graded and the next pending items are started, so the same code drives the
in-process executor and Celery workers, and at most `concurrency` of its runs are in flight."""

from __future__ import annotations

import logging
import statistics
import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from builder.models import Workflow, WorkflowVersion
from builder.services.graph import graph_checksum
from builder.services.validation import ERROR, validate_graph
from evals.graders import Sample, grade, graders_check
from evals.models import Dataset, Eval, EvalResult, EvalStatus, ResultStatus
from runs.models import TERMINAL_STATUSES, Run, RunStatus
from runs.services import run_cancel, run_start
from trellis.errors import ApplicationError

log = logging.getLogger("trellis.evals")
EVAL_TRIGGER = "eval"
NUDGE_S = 2.0


def _version(workflow: Workflow, version) -> tuple[WorkflowVersion | None, dict]:
    if version in (None, "draft"):
        graph = workflow.draft_graph
        errors = [i for i in validate_graph(graph, workspace_id=workflow.workspace_id) if i["severity"] == ERROR]
        if errors:
            raise ApplicationError(
                "invalid_graph", "The draft has errors; fix them before evaluating it.", errors, status=422
            )
        return None, graph
    if version == "published":
        if workflow.published_version is None:
            raise ApplicationError("not_published", "This workflow has no published version yet.", status=422)
        return workflow.published_version, workflow.published_version.graph
    if isinstance(version, bool) or not isinstance(version, int):
        raise ApplicationError(
            "validation_error", 'version must be "draft", "published" or a version number.', [{"field": "version"}]
        )
    found = WorkflowVersion.objects.filter(workflow=workflow, number=version).first()
    if found is None:
        raise ApplicationError("version_not_found", f"This workflow has no version {version}.", status=404)
    return found, found.graph


def eval_start(
    *, workflow: Workflow, dataset: Dataset, version="draft", graders=None, by=None, purpose: str = "manual"
) -> Eval:
    if dataset.workflow_id != workflow.pk:
        raise ApplicationError("validation_error", "The dataset belongs to another workflow.", [{"field": "dataset"}])
    if workflow.archived_at is not None:
        raise ApplicationError("workflow_archived", "This workflow is archived.", status=422)
    graders = graders_check(graders) if graders is not None else dataset.graders
    if not graders:
        raise ApplicationError(
            "validation_error",
            "An eval needs at least one grader (give graders, or set them on the dataset).",
            [{"field": "graders"}],
        )
    pinned, graph = _version(workflow, version)
    items = list(dataset.items.filter(deleted_at__isnull=True).order_by("created_at", "id"))
    if not items:
        raise ApplicationError("empty_dataset", "The dataset has no items.", status=422)
    with transaction.atomic():
        ev = Eval.objects.create(
            workspace_id=workflow.workspace_id,
            workflow=workflow,
            dataset=dataset,
            version=pinned,
            is_draft=pinned is None,
            checksum=graph_checksum(graph),
            graph=graph if pinned is None else None,
            graders=graders,
            concurrency=settings.EVAL_CONCURRENCY,
            purpose=purpose,
            created_by=by if getattr(by, "is_authenticated", False) else None,
        )
        EvalResult.objects.bulk_create(
            [
                EvalResult(
                    eval=ev,
                    position=i,
                    item=item,
                    item_revision=item.revision,
                    input=item.input,
                    expected=item.expected,
                )
                for i, item in enumerate(items)
            ],
            batch_size=500,
        )
        transaction.on_commit(lambda: eval_advance(eval_id=ev.pk))
    return ev


def is_eval_run(run: Run) -> bool:
    trigger = run.trigger or {}
    return trigger.get("type") == EVAL_TRIGGER and bool(trigger.get("eval_id"))


def eval_on_run_finishing(run: Run) -> None:
    """Run-finishing listener: a run of an eval (`is_eval_run`) moves its eval on once the run's end is
    committed."""
    eval_id = run.trigger["eval_id"]
    transaction.on_commit(lambda: _advance_quietly(eval_id))


def _advance_quietly(eval_id) -> None:
    try:
        eval_advance(eval_id=eval_id)
    except Exception:
        log.exception("eval %s: advancing failed", eval_id)


def eval_advance(*, eval_id) -> Eval | None:
    """Grade the results whose runs finished, start the next items, finish the eval when all are done.
    Safe to call any number of times from any number of threads or processes."""
    ev = Eval.objects.filter(pk=eval_id).first()
    if ev is None or ev.status != EvalStatus.RUNNING:
        return ev
    finished = EvalResult.objects.filter(
        eval_id=ev.pk, status=ResultStatus.RUNNING, run__status__in=list(TERMINAL_STATUSES)
    ).values_list("pk", flat=True)
    for pk in list(finished):
        # Claim it: only one caller grades a result.
        if EvalResult.objects.filter(pk=pk, status=ResultStatus.RUNNING).update(status=ResultStatus.GRADING):
            _grade(ev, EvalResult.objects.select_related("run").get(pk=pk))
    with transaction.atomic():
        ev = Eval.objects.select_for_update(of=("self",)).select_related("workflow", "version").get(pk=eval_id)
        if ev.status != EvalStatus.RUNNING:
            return ev
        results = EvalResult.objects.filter(eval_id=ev.pk)
        busy = results.filter(status__in=[ResultStatus.RUNNING, ResultStatus.GRADING]).count()
        free = ev.concurrency - busy
        if free > 0:
            for result in results.filter(status=ResultStatus.PENDING).order_by("position")[:free]:
                _start(ev, result)
        if not results.exclude(status=ResultStatus.DONE).exists():
            ev.summary = eval_summary(results=list(results.order_by("position")))
            ev.status = EvalStatus.SUCCEEDED
            ev.finished_at = timezone.now()
            ev.save(update_fields=["summary", "status", "finished_at"])
    return ev


def eval_cancel(*, ev: Eval) -> Eval:
    """Stop an eval in progress: no more items start, its runs in flight are cancelled, the results already
    finished keep their grades, and the summary covers what was done (with how many items were cancelled)."""

    with transaction.atomic():
        ev = Eval.objects.select_for_update(of=("self",)).get(pk=ev.pk)
        if ev.status != EvalStatus.RUNNING:
            raise ApplicationError("eval_finished", f"This eval has already {ev.status}.", status=409)
        # From here eval_advance leaves it alone: nothing new starts, and late run listeners do nothing.
        ev.status = EvalStatus.CANCELLED
        ev.save(update_fields=["status"])
    results = EvalResult.objects.filter(eval_id=ev.pk)
    # Runs that finished before the cancel are graded as usual: their items keep their scores.
    for pk in list(
        results.filter(status=ResultStatus.RUNNING, run__status__in=list(TERMINAL_STATUSES)).values_list(
            "pk", flat=True
        )
    ):
        if EvalResult.objects.filter(pk=pk, status=ResultStatus.RUNNING).update(status=ResultStatus.GRADING):
            _grade(ev, EvalResult.objects.select_related("run").get(pk=pk))
    for result in results.filter(status=ResultStatus.RUNNING).select_related("run"):
        run_cancel(run=result.run)
    results.filter(status__in=[ResultStatus.PENDING, ResultStatus.RUNNING]).update(
        status=ResultStatus.DONE,
        passed=False,
        run_status=RunStatus.CANCELLED,
        error={"code": "cancelled", "message": "The eval was cancelled before this item finished."},
    )
    ev.summary = eval_summary(results=list(results.order_by("position")))
    ev.finished_at = timezone.now()
    ev.save(update_fields=["summary", "finished_at"])
    return ev


def _start(ev: Eval, result: EvalResult) -> None:
    workflow = ev.workflow
    if ev.is_draft:
        # The snapshot taken when the eval started, not whatever the draft is now.
        workflow.draft_graph = ev.graph
    trigger = {"type": EVAL_TRIGGER, "eval_id": str(ev.pk), "item_id": str(result.item_id or "")}
    try:
        with transaction.atomic():
            run = run_start(
                workflow=workflow,
                version="draft" if ev.is_draft else ev.version.number,
                input=result.input,
                trigger=trigger,
                by=ev.created_by,
            )
    except ApplicationError as exc:
        result.status, result.passed = ResultStatus.DONE, False
        result.error = {"code": exc.code, "message": exc.message, "details": exc.details}
        result.save(update_fields=["status", "passed", "error"])
        return
    result.run, result.status = run, ResultStatus.RUNNING
    result.save(update_fields=["run", "status"])


def _grade(ev: Eval, result: EvalResult) -> None:
    run = result.run
    result.run_status = run.status
    result.output = run.output
    result.error = run.error
    result.cost_usd = float((run.usage or {}).get("cost_usd") or 0.0)
    active = (run.timings or {}).get("active_ms")
    if active is None and run.started_at and run.finished_at:
        active = int((run.finished_at - run.started_at).total_seconds() * 1000)
    result.latency_ms = active
    scores = {}
    if run.status == RunStatus.SUCCEEDED:
        sample = Sample(input=result.input, output=run.output, expected=result.expected)
        for grader in ev.graders:
            try:
                scores[grader["name"]] = grade(grader, sample, workspace_id=ev.workspace_id)
            except Exception as exc:  # a grader bug must not leave the result claimed forever
                log.exception("eval %s: grader %s failed", ev.pk, grader.get("name"))
                scores[grader["name"]] = {"score": 0.0, "passed": False, "error": str(exc)}
    result.scores = scores
    result.passed = run.status == RunStatus.SUCCEEDED and all(s["passed"] for s in scores.values())
    result.status = ResultStatus.DONE
    result.save(update_fields=["run_status", "output", "error", "cost_usd", "latency_ms", "scores", "passed", "status"])


def eval_summary(*, results: list[EvalResult]) -> dict:
    total = len(results)
    passed = sum(1 for r in results if r.passed)
    per_grader: dict[str, list[float]] = {}
    for r in results:
        for name, s in (r.scores or {}).items():
            per_grader.setdefault(name, []).append(float(s.get("score", 0.0)))
    latencies = [r.latency_ms for r in results if r.latency_ms is not None]
    return {
        "items": total,
        "passed": passed,
        "failed": total - passed,
        "errored": sum(1 for r in results if r.run_status not in (RunStatus.SUCCEEDED, RunStatus.CANCELLED)),
        "cancelled": sum(1 for r in results if r.run_status == RunStatus.CANCELLED),
        "pass_rate": round(passed / total, 4) if total else 0.0,
        "mean_scores": {name: round(statistics.fmean(v), 4) for name, v in per_grader.items()},
        "cost_usd": round(sum(r.cost_usd for r in results), 6),
        # The judge models' calls (score_model, label_model): not runs, so not in the usage views.
        "grading_cost_usd": round(
            sum(float(s.get("cost_usd") or 0) for r in results for s in (r.scores or {}).values()), 6
        ),
        "p50_ms": int(statistics.median(latencies)) if latencies else None,
    }


def eval_wait(*, eval_id, timeout_s: float) -> Eval:
    """The eval once it has finished, or as it is after `timeout_s`."""

    deadline = time.monotonic() + timeout_s
    nudge_at = time.monotonic() + NUDGE_S
    while True:
        ev = Eval.objects.get(pk=eval_id)
        if ev.status != EvalStatus.RUNNING or time.monotonic() >= deadline:
            return ev
        if time.monotonic() >= nudge_at:
            # A result whose run finished while its listener was lost (a process died) is picked up here;
            # not on every poll: the row lock would compete with the listeners that do the work.
            eval_advance(eval_id=eval_id)
            nudge_at = time.monotonic() + NUDGE_S
        time.sleep(0.05)
