"""Writes for runs: start, wait, cancel, approve, rerun. The engine itself lives in runs/engine/."""

from __future__ import annotations

import functools
import json
import logging
import math
import time
import uuid
from collections.abc import Callable

import jsonschema
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import role_at_least
from builder.models import WorkflowVersion
from builder.services.validation import validate_graph
from runs import events
from runs.dispatch import dispatch_run, lease_new_run
from runs.engine.core import ACTIVE_RUNS
from runs.finishing import notify_finishing
from runs.models import TERMINAL_STATUSES, Run, RunEvent, RunStatus, Step, StepStatus
from runs.persistence.engine import HOLD_PREFIX
from runs.persistence.runs import (
    cancel_steps,
    decide_step,
    insert_copy,
    insert_run,
    mark_cancelled,
    queued_event,
    request_cancel,
    requeue,
)
from trellis.errors import ApplicationError
from trellis.jsoncheck import json_problem

log = logging.getLogger("trellis.runs")


def parse_wait(value, *, cap: float) -> float | None:
    """A `wait` in seconds, from a query string or a JSON body, at most `cap`: None when absent or empty;
    ApplicationError (400) when it is not a number or is negative. The one parser of `?wait=` and `"wait"`."""
    if value is None or value == "" or value is False:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if math.isnan(seconds):  # "nan" parses as a float and slips past every comparison
        raise ApplicationError(
            "validation_error", "wait must be a number of seconds.", [{"field": "wait", "message": "Not a number."}]
        )
    if seconds < 0:
        raise ApplicationError("validation_error", "wait must not be negative.", [{"field": "wait"}])
    return min(seconds, cap)


def _start_node(graph: dict) -> dict | None:
    for node in graph.get("nodes", []):
        if node.get("type") == "start":
            return node
    return None


def _path(parts) -> str:
    return "/" + "/".join(str(p) for p in parts) if parts else ""


@functools.lru_cache(maxsize=256)
def _validator(schema_json: str):
    schema = json.loads(schema_json)
    return jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)(schema)


def input_errors(graph: dict, data) -> list[dict]:
    """Problems of `data` against the start node's input_schema, as [{path, message}]."""
    start = _start_node(graph)
    schema = ((start or {}).get("config") or {}).get("input_schema")
    if not schema:
        return [] if isinstance(data, dict) else [{"path": "", "message": "The input must be a JSON object."}]
    validator = _validator(json.dumps(schema, sort_keys=True))  # building one walks the schema: keep it
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    return [{"path": _path(e.absolute_path), "message": e.message} for e in errors]


def _resolve_version(workflow, version) -> tuple[dict, object | None, bool]:
    if version in (None, "draft"):
        return workflow.draft_graph, None, True
    if version == "published":
        published = workflow.published_version
        if published is None:
            raise ApplicationError(
                "not_published", "This workflow has no published version yet: publish it first.", status=422
            )
        return published.graph, published, False
    try:
        # int() would quietly turn true into 1 and 1.5 into 1: only whole numbers name a version.
        if isinstance(version, bool) or (isinstance(version, float) and not version.is_integer()):
            raise ValueError(version)
        number = int(version)
    except (TypeError, ValueError, OverflowError):
        raise ApplicationError(
            "validation_error",
            'version must be "draft", "published" or a version number.',
            [{"field": "version", "message": "Not a version."}],
        ) from None
    found = WorkflowVersion.objects.filter(workflow=workflow, number=number).first()
    if found is None:
        raise ApplicationError("version_not_found", f"This workflow has no version {number}.", status=404)
    return found.graph, found, False


def _graph_errors(graph: dict) -> list[dict]:
    return [dict(issue) for issue in validate_graph(graph) if issue.get("severity") == "error"]


def _check_storable(data) -> None:
    """Refuse input that PostgreSQL or the engine would choke on (NUL, deep nesting, size) with a 4xx
    instead of a 500 at insert time or a run that fails on its first step."""
    problem = json_problem(data, max_depth=settings.GRAPH_MAX_DEPTH * 4)
    if problem:
        raise ApplicationError("invalid_input", problem, [{"path": "", "message": problem}], status=422)
    size = len(json.dumps(data, ensure_ascii=False).encode())
    if size > settings.STEP_MAX_PAYLOAD_BYTES:
        raise ApplicationError(
            "payload_too_large",
            f"The run input is {size} bytes; the limit is {settings.STEP_MAX_PAYLOAD_BYTES} "
            "(TRELLIS_STEP_MAX_PAYLOAD_BYTES).",
            status=413,
        )


def run_start(
    *,
    workflow,
    version="draft",
    input: dict,  # noqa: A002
    trigger: dict | None = None,
    by=None,
    idempotency_key: str | None = None,
    callback_url: str | None = None,
    with_rows: Callable[[Run], list] | None = None,
    before_dispatch: Callable[[Run], None] | None = None,
    caller_waits: bool = False,
) -> Run:
    """Create a queued run of the draft, the published version or version N and dispatch it on commit.

    `callback_url` (checked by the caller: runs.triggers.callbacks.callback_url_check) receives the result.
    `with_rows(run)` gives rows to store with a new run, atomically (a webhook's delivery-log line);
    `before_dispatch(run)` runs once a new run is stored and before any worker can take it (a caller
    that waits for the result joins the run's events there). Neither is called for an idempotent repeat,
    which returns the first run. `caller_waits`: the caller waits for the result now (runs.dispatch)."""
    if idempotency_key is not None and (not isinstance(idempotency_key, str) or len(idempotency_key) > 200):
        # The column is varchar(200): a longer or non-string key would fail as a 500 at insert time.
        raise ApplicationError(
            "validation_error",
            "The idempotency key must be a string of at most 200 characters.",
            [{"field": "idempotency_key", "message": "A string of at most 200 characters."}],
        )
    try:
        run, queued = run_prepare(
            workflow=workflow,
            version=version,
            input=input,
            trigger=trigger,
            by=by,
            idempotency_key=idempotency_key,
            callback_url=callback_url,
        )
    except ApplicationError:
        # A repeat of an accepted request gets its run, even if the workflow or input would be refused now.
        existing = run_for_idempotency_key(workflow, idempotency_key)
        if existing is not None:
            return existing
        raise
    lease_new_run(run)
    # One statement on PostgreSQL; an idempotency key seen before inserts nothing.
    stored = insert_run(run, [queued, *(with_rows(run) if with_rows else [])])
    if stored is None:
        existing = run_for_idempotency_key(workflow, idempotency_key)
        if existing is None:
            raise IntegrityError("the run could not be stored")
        return existing
    run = stored
    if before_dispatch is not None:
        before_dispatch(run)
    transaction.on_commit(lambda: dispatch_run(run.pk, caller_waits=caller_waits, stored=run))
    return run


def run_prepare(
    *,
    workflow,
    version="draft",
    input: dict,  # noqa: A002
    trigger: dict | None = None,
    by=None,
    idempotency_key: str | None = None,
    callback_url: str | None = None,
) -> tuple[Run, RunEvent]:
    """A new queued run and its first event, checked and built but not stored: `run_start` stores one, the
    webhook ingest (runs/triggers/ingest.py) stores a group of them with one statement.
    Raises ApplicationError (archived workflow, unknown version, broken draft, bad input)."""
    graph, pinned, is_draft = _startable(workflow, version, input)
    run = Run(
        id=uuid.uuid4(),
        workspace_id=workflow.workspace_id,
        workflow=workflow,
        version=pinned,
        graph=graph if pinned is None else None,  # a published version's graph is read from the version
        is_draft=is_draft,
        input=input if input is not None else {},
        trigger=trigger or {"type": "api"},
        idempotency_key=idempotency_key or None,
        created_by=by if getattr(by, "is_authenticated", False) else None,
        last_seq=1,
        callback_url=callback_url or "",
    )
    return run, queued_event(run)


def run_for_idempotency_key(workflow, idempotency_key: str | None) -> Run | None:
    """The run an earlier request with this idempotency key started, if any."""
    if not idempotency_key:
        return None
    return Run.objects.filter(workflow=workflow, idempotency_key=idempotency_key).first()


def _startable(workflow, version, input) -> tuple[dict, object | None, bool]:  # noqa: A002
    """The graph to run, or ApplicationError: archived workflow, unknown version, broken draft, bad input."""
    if getattr(workflow, "archived_at", None) is not None:
        raise ApplicationError("workflow_archived", "This workflow is archived.", status=422)
    graph, pinned, is_draft = _resolve_version(workflow, version)
    if is_draft:
        problems = _graph_errors(graph)
        if problems:
            raise ApplicationError(
                "invalid_graph", "The draft has errors; fix them before running it.", problems, status=422
            )
    if input is None:
        input = {}  # noqa: A001
    _check_storable(input)
    problems = input_errors(graph, input)
    if problems:
        raise ApplicationError(
            "invalid_input", "The input does not match the start node's schema.", problems, status=422
        )
    return graph, pinned, is_draft


def run_wait(*, run_id, timeout_s: float) -> Run:
    """The run once it is terminal or waiting, or as it is when `timeout_s` has passed."""
    deadline = time.monotonic() + max(0.0, float(timeout_s))
    pause = 0.01
    while True:
        run = Run.objects.get(pk=run_id)
        if run.status in TERMINAL_STATUSES or run.status == RunStatus.WAITING:
            return run
        left = deadline - time.monotonic()
        if left <= 0:
            return run
        time.sleep(min(pause, left))
        pause = min(pause * 1.5, 0.25)


def _lease_live(run: Run) -> bool:
    """A worker is advancing the run. A hold (a worker received the run and has not started it) does not
    count: the run is cancelled at once, and that worker's acquire then finds it finished. Nor does the lease of
    a run still queued (a new run in default mode is stored leased to the advance that will start it): that
    advance has stored nothing yet, and its first commit (runs/engine/steps.py: before a node on a thread starts, as
    a node that waits on the network starts) finds the lease gone and ends it, cutting off that call."""
    if run.status == RunStatus.QUEUED or not run.lease_owner or run.lease_owner.startswith(HOLD_PREFIX):
        return False
    return run.lease_expires_at is not None and run.lease_expires_at > timezone.now()


def run_cancel(*, run: Run, by=None) -> Run:
    """Cancel now if no worker holds the run; else flag it and the worker stops (in-flight calls abort)."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run.pk)
        if run.is_terminal:
            return run
        if _lease_live(run):
            request_cancel(run.pk)
            run.cancel_requested = True
            event = ACTIVE_RUNS.get(str(run.pk))
            if event is not None:
                event.set()
            return run
        now = timezone.now()
        error = {"code": "cancelled", "message": "The run was cancelled.", "node_id": None}
        for step in cancel_steps(run.pk, now):
            events.publish_event(
                run_id=run.pk,
                type="step.finished",
                node_id=step.node_id,
                data={"step_id": str(step.id), "node_type": step.node_type, "status": StepStatus.CANCELLED},
            )
        mark_cancelled(run.pk, error, now)
        events.publish_event(
            run_id=run.pk, type="run.finished", data={"status": RunStatus.CANCELLED, "output": None, "error": error}
        )
        notify_finishing(run.pk)
    return Run.objects.get(pk=run.pk)


def approval_role(step: Step, run: Run) -> str:
    """The role needed to decide an approval: the node's `approvers` role, editor by default."""
    for node in run.executed_graph.get("nodes", []):
        if node.get("id") == step.node_id:
            role = ((node.get("config") or {}).get("approvers")) or "editor"
            return role if role in ("viewer", "editor", "admin", "owner") else "editor"
    return "editor"


def run_approve(*, run: Run, step_id, decision: str, comment: str = "", by=None, role: str | None = None) -> Run:
    """Decide a waiting user_approval step; the run resumes on the `approved` or `rejected` port."""
    if decision not in ("approved", "rejected"):
        raise ApplicationError(
            "validation_error",
            'decision must be "approved" or "rejected".',
            [{"field": "decision", "message": "Not a decision."}],
        )
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run.pk)
        step = Step.objects.filter(run=run, pk=step_id).first() if _is_uuid(step_id) else None
        if step is None:
            raise ApplicationError("step_not_found", "This run has no such step.", status=404)
        if role is not None and not role_at_least(role, approval_role(step, run)):
            raise ApplicationError(
                "permission_denied", f"Deciding this approval needs the {approval_role(step, run)} role.", status=403
            )
        if step.status != StepStatus.WAITING or run.is_terminal or "on_timeout" in (step.wait or {}):
            # A step with `on_timeout` is a timer: only its time ends it.
            raise ApplicationError("not_waiting", "This step is not waiting for a decision.", status=409)
        now = timezone.now()
        output = {"decision": decision, "comment": comment or "", "by": getattr(by, "email", None)}
        decide_step(step, port=decision, output=output, now=now)
        if run.status == RunStatus.WAITING:
            requeue(run.pk, now)
            events.publish_event(run_id=run.pk, type="run.status", data={"status": RunStatus.QUEUED})
            transaction.on_commit(lambda: dispatch_run(run.pk))
    return Run.objects.get(pk=run.pk)


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def run_rerun(*, run: Run, by=None, from_step_id=None, callback_url: str | None = None) -> Run:
    """Run again with the same input: the same version (or draft snapshot), or — from a step — the
    current draft, keeping the steps that finished before that step's node. The original run's
    callback_url is not inherited: only the `callback_url` given here is called back."""
    # run_start refuses archived (and deleted, which archives) workflows; the draft copies below bypass it.
    if run.workflow.archived_at is not None:
        raise ApplicationError("workflow_archived", "This workflow is archived.", status=422)
    if from_step_id is None:
        version = run.version.number if run.version_id else "draft"
        if run.is_draft:
            # A draft run reruns the graph it ran, not whatever the draft is now.
            trigger = {"type": "rerun", "run_id": str(run.pk)}
            return _start_copy(run, graph=run.graph, by=by, trigger=trigger, callback_url=callback_url)
        return run_start(
            workflow=run.workflow,
            version=version,
            input=run.input,
            trigger={"type": "rerun", "run_id": str(run.pk)},
            by=by,
            callback_url=callback_url,
        )
    step = Step.objects.filter(run=run, pk=from_step_id).first() if _is_uuid(from_step_id) else None
    if step is None or step.order is None:
        raise ApplicationError("step_not_found", "This run has no finished step with that id.", status=404)
    graph = run.workflow.draft_graph
    problems = _graph_errors(graph)
    if problems:
        raise ApplicationError(
            "invalid_graph", "The draft has errors; fix them before running it.", problems, status=422
        )
    node_ids = {n.get("id") for n in graph.get("nodes", [])}
    keep = [
        s
        for s in run.steps.filter(order__lt=step.order).order_by("order")
        if s.node_id in node_ids and s.status in (StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.SKIPPED)
    ]
    trigger = {"type": "rerun", "run_id": str(run.pk), "from_step": str(step.pk), "node_id": step.node_id}
    return _start_copy(run, graph=graph, by=by, trigger=trigger, keep=keep, callback_url=callback_url)


def _start_copy(
    run: Run, *, graph: dict, by, trigger: dict, keep: list[Step] | None = None, callback_url: str | None = None
) -> Run:
    keep = keep or []
    with transaction.atomic():
        new = insert_copy(
            {
                "workspace_id": run.workspace_id,
                "workflow_id": run.workflow_id,
                "version": None,
                "graph": graph,
                "is_draft": True,
                "input": run.input,
                "trigger": trigger,
                "created_by": by if getattr(by, "is_authenticated", False) else None,
                "parent_run": run,
                "callback_url": callback_url or "",
            },
            keep,
        )
        transaction.on_commit(lambda: dispatch_run(new.pk))
    return new
