"""REST API for runs (DESIGN §7): start, list, detail, events, cancel, approvals, rerun. Views are thin."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.permissions import current_workspace, get_in_workspace, require_role
from runs import schemas, selectors, services
from runs.models import Run, RunStatus
from runs.triggers.callbacks import callback_url_check
from trellis.errors import ApplicationError

MAX_WAIT_S = 300


def _data(request) -> dict:
    if request.data in (None, "") or request.data == {}:
        return {}
    if not isinstance(request.data, dict):
        raise ApplicationError("bad_request", "The body must be a JSON object.")
    return request.data


def _wait_seconds(value) -> float:
    if value in (None, "", False):
        return 0.0
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ApplicationError(
            "validation_error", "wait must be a number of seconds.", [{"field": "wait", "message": "Not a number."}]
        ) from None
    if seconds != seconds:  # NaN compares false with everything and would slip past the checks below
        raise ApplicationError(
            "validation_error", "wait must be a number of seconds.", [{"field": "wait", "message": "Not a number."}]
        )
    if seconds < 0:
        raise ApplicationError("validation_error", "wait must not be negative.", [{"field": "wait"}])
    return min(seconds, float(getattr(settings, "RUN_MAX_WAIT_S", MAX_WAIT_S)))


def _run(request, run_id, role: str = Role.VIEWER) -> Run:
    return get_in_workspace(request, selectors.run_queryset(), role, pk=run_id)


class WorkflowRunsApi(APIView):
    @extend_schema(
        summary="Start a run of the draft, the published version or version N",
        request=schemas.RunStartIn,
        responses={201: schemas.RunOut},
    )
    def post(self, request, workflow_id):
        from builder.models import Workflow

        workflow = get_in_workspace(request, Workflow.objects.all(), Role.EDITOR, pk=workflow_id)
        data = _data(request)
        payload = data.get("input", {})
        if not isinstance(payload, dict):
            raise ApplicationError(
                "invalid_input",
                "The input must be a JSON object.",
                [{"path": "", "message": "Not an object."}],
                status=422,  # keyword-only: passed positionally it raised a TypeError (a 500)
            )
        wait = _wait_seconds(data.get("wait"))
        callback_url = callback_url_check(data.get("callback_url"))
        key = request.META.get("HTTP_IDEMPOTENCY_KEY") or data.get("idempotency_key") or None
        run = services.run_start(
            workflow=workflow,
            version=data.get("version", "draft"),
            input=payload,
            trigger={"type": "manual" if request.auth is None else "api"},
            by=request.user,
            idempotency_key=key,
            callback_url=callback_url,
        )
        if wait:
            run = services.run_wait(run_id=run.pk, timeout_s=wait)
            run = selectors.run_queryset().get(pk=run.pk)
        return Response(selectors.run_json(run), status=201)

    @extend_schema(
        summary="Runs of this workflow, newest first", responses=schemas.RunPageOut, operation_id="workflow_runs_list"
    )
    def get(self, request, workflow_id):
        from builder.models import Workflow

        workflow = get_in_workspace(request, Workflow.objects.all(), Role.VIEWER, pk=workflow_id)
        return _list(request, workflow.workspace_id, workflow_id=workflow.pk)


def _list(request, workspace_id, workflow_id=None) -> Response:
    try:
        limit = int(request.GET.get("limit", 50))
    except ValueError:
        limit = 50
    runs, next_cursor = selectors.run_list(
        workspace_id=workspace_id,
        workflow_id=workflow_id,
        status=request.GET.get("status") or None,
        cursor=request.GET.get("cursor") or None,
        limit=limit,
    )
    return Response({"results": [selectors.run_json(r, steps=False) for r in runs], "next_cursor": next_cursor})


def _uuid_or_404(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Http404 from None


class RunListApi(APIView):
    @extend_schema(
        summary="Runs in the workspace, newest first (filters: workflow, status; keyset cursor)",
        responses=schemas.RunPageOut,
        operation_id="runs_list",
    )
    def get(self, request):
        membership = current_workspace(request, Role.VIEWER)
        workflow_id = request.GET.get("workflow") or None
        if workflow_id:
            _uuid_or_404(workflow_id)
        return _list(request, membership.workspace_id, workflow_id=workflow_id)


class RunDetailApi(APIView):
    @extend_schema(summary="A run with its steps", responses=schemas.RunOut)
    def get(self, request, run_id):
        return Response(selectors.run_json(_run(request, run_id)))


class RunEventsApi(APIView):
    @extend_schema(
        summary="Stored events after a sequence number (the WebSocket's replay, for polling)",
        responses=schemas.EventsOut,
    )
    def get(self, request, run_id):
        run = _run(request, run_id)
        try:
            after = int(request.GET.get("after", 0))
        except ValueError:
            after = 0
        return Response({"events": selectors.run_events(run_id=run.pk, after=after, limit=1000)})


class RunCancelApi(APIView):
    @extend_schema(summary="Cancel a run", request=None, responses=schemas.RunOut)
    def post(self, request, run_id):
        run = _run(request, run_id, Role.EDITOR)
        if run.is_terminal and run.status != RunStatus.CANCELLED:
            # Cancelling twice stays idempotent, but a run that ended otherwise cannot be cancelled: say so
            # rather than answer 200 with an unchanged run, which a client reads as "cancelled".
            raise ApplicationError(
                "run_finished", f"This run already finished ({run.status}); there is nothing to cancel.", status=409
            )
        run = services.run_cancel(run=run, by=request.user)
        return Response(selectors.run_json(run), status=202 if not run.is_terminal else 200)


class RunApprovalsApi(APIView):
    @extend_schema(
        summary="Approve or reject a waiting user_approval step", request=schemas.ApprovalIn, responses=schemas.RunOut
    )
    def post(self, request, run_id):
        run = _run(request, run_id, Role.VIEWER)
        membership = require_role(request, run.workspace_id, Role.VIEWER)
        data = _data(request)
        run = services.run_approve(
            run=run,
            step_id=data.get("step_id"),
            decision=data.get("decision"),
            comment=str(data.get("comment") or ""),
            by=request.user,
            role=membership.role,
        )
        return Response(selectors.run_json(run))


class RunRerunApi(APIView):
    @extend_schema(
        summary="Run again with the same input, or from a step on the current draft",
        request=schemas.RerunIn,
        responses={201: schemas.RunOut},
    )
    def post(self, request, run_id):
        run = _run(request, run_id, Role.EDITOR)
        data = _data(request)
        wait = _wait_seconds(data.get("wait"))
        new = services.run_rerun(
            run=run,
            by=request.user,
            from_step_id=data.get("from_step") or None,
            callback_url=callback_url_check(data.get("callback_url")),
        )
        if wait:
            services.run_wait(run_id=new.pk, timeout_s=wait)
        return Response(selectors.run_json(selectors.run_queryset().get(pk=new.pk)), status=201)
