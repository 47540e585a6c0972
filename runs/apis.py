"""REST API for runs (DESIGN §7): start, list, detail, events, cancel, approvals, rerun. Views are thin."""

from __future__ import annotations

import datetime as dt
import uuid

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.permissions import current_workspace, get_in_workspace, require_role
from budgets.services import max_cost_check, run_cost_limit_row
from builder.models import Workflow
from runs import schemas, selectors, services
from runs.models import Run, RunStatus
from runs.triggers.callbacks import callback_url_check
from trellis.bodies import body_dict
from trellis.errors import ApplicationError

MAX_WAIT_S = 300.0  # cap of `wait` on the run API (webhooks: TRELLIS_WEBHOOK_MAX_WAIT_S)


def _wait_seconds(value) -> float:
    return services.parse_wait(value, cap=MAX_WAIT_S) or 0.0


def _run(request, run_id, role: str = Role.VIEWER) -> Run:
    return get_in_workspace(request, selectors.run_queryset(), role, pk=run_id)


def _comma_list(values) -> str:
    """A regex for a comma-separated list of `values` (empty items allowed, as the filters skip them)."""
    one = "|".join(values)
    return rf"^({one})?(,({one})?)*$"


class RunListParams(serializers.Serializer):
    """The run list's filters (query string). Each one is a WHERE clause: a cursor from a page stays valid
    for the next page with the same filters."""

    # The patterns say exactly what the validators below take, so that the document is the contract. An empty
    # value is no filter (`_list` drops it).
    status = serializers.RegexField(
        _comma_list(RunStatus.values),
        required=False,
        allow_blank=True,
        help_text=f"Comma-separated run statuses: {', '.join(RunStatus.values)}.",
    )
    version = serializers.RegexField(
        r"^(draft|[0-9]*[1-9][0-9]*)?$",
        required=False,
        allow_blank=True,
        help_text='A published version number (runs of that version), or "draft" (draft runs).',
    )
    trigger = serializers.RegexField(
        _comma_list(selectors.RUN_TRIGGER_TYPES),
        required=False,
        allow_blank=True,
        help_text=f"Comma-separated trigger types (the run's trigger.type): {', '.join(selectors.RUN_TRIGGER_TYPES)}.",
    )
    since = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Runs created at or after this ISO 8601 date (from 00:00 UTC) or date-time "
        "(without an offset it is UTC; write + as %2B or use Z).",
    )
    until = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Runs created at or before this ISO 8601 date-time, or on or before this date: a date means "
        "through the end of that day in UTC (before 00:00 UTC of the next day).",
    )
    feedback = serializers.ChoiceField(
        choices=["up", "down", "any", "none"],
        required=False,
        allow_blank=True,
        help_text="Runs with a thumbs up, a thumbs down, any feedback, or none (evals/); empty: no filter.",
    )
    cursor = serializers.CharField(
        required=False, allow_blank=True, help_text="next_cursor of the previous page (same filters)."
    )
    limit = serializers.IntegerField(
        required=False, help_text=f"Page size, 1 to {selectors.MAX_PAGE} (others are clamped to it); default 50."
    )

    def validate_status(self, value: str) -> str:
        unknown = [s for s in value.split(",") if s and s not in RunStatus.values]
        if unknown:
            raise serializers.ValidationError(f"Unknown status {unknown[0]!r}; one of: {', '.join(RunStatus.values)}.")
        return value

    def validate_version(self, value: str) -> int | str:
        if value == "draft":
            return value
        if not value.isascii() or not value.isdigit() or int(value) < 1:
            raise serializers.ValidationError('A version number (1, 2, …) or "draft".')
        return int(value)

    def validate_trigger(self, value: str) -> list[str]:
        types = [t for t in value.split(",") if t]
        unknown = [t for t in types if t not in selectors.RUN_TRIGGER_TYPES]
        if unknown:
            raise serializers.ValidationError(
                f"Unknown trigger type {unknown[0]!r}; one of: {', '.join(selectors.RUN_TRIGGER_TYPES)}."
            )
        return types

    def validate_since(self, value: str) -> dt.datetime:
        return _moment(value, end_of_day=False)

    def validate_until(self, value: str) -> dt.datetime:
        return _moment(value, end_of_day=True)

    def validate(self, attrs: dict) -> dict:
        since, until = attrs.get("since"), attrs.get("until")
        if since is not None and until is not None and since >= until:
            raise serializers.ValidationError({"since": "since must not be after until."})
        return attrs


def _moment(value: str, *, end_of_day: bool) -> dt.datetime:
    """An ISO date or date-time as an aware UTC datetime; for `until`, the exclusive upper bound."""
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        day = None
    if day is not None:
        start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
        return start + dt.timedelta(days=1) if end_of_day else start
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise serializers.ValidationError("Not an ISO 8601 date (2026-03-01) or date-time.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    # created_at has microsecond precision: "at or before until" is "before until + 1 µs".
    return moment + dt.timedelta(microseconds=1) if end_of_day else moment


class WorkflowRunsApi(APIView):
    @extend_schema(
        summary="Start a run of the draft, the published version or version N",
        request=schemas.RunStartIn,
        responses={201: schemas.RunOut},
    )
    def post(self, request, workflow_id):
        workflow = get_in_workspace(request, Workflow.objects.all(), Role.EDITOR, pk=workflow_id)
        data = body_dict(request)
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
        max_cost = max_cost_check(data.get("max_cost_usd"))
        trigger = {"type": "manual" if request.auth is None else "api"}
        if getattr(request.auth, "pk", None) is not None:
            trigger["token_id"] = str(request.auth.pk)  # the API token's budget applies to the run
        run = services.run_start(
            workflow=workflow,
            version=data.get("version", "draft"),
            input=payload,
            trigger=trigger,
            by=request.user,
            idempotency_key=key,
            callback_url=callback_url,
            with_rows=(lambda r: [run_cost_limit_row(run=r, max_cost_usd=max_cost)]) if max_cost else None,
            caller_waits=bool(wait),
        )
        if wait:
            run = services.run_wait(run_id=run.pk, timeout_s=wait)
            run = selectors.run_queryset().get(pk=run.pk)
        return Response(selectors.run_json(run), status=201)

    @extend_schema(
        summary="Runs of this workflow, newest first (filters: status, version, trigger, since, until; keyset cursor)",
        parameters=[RunListParams],
        responses=schemas.RunPageOut,
        operation_id="workflow_runs_list",
    )
    def get(self, request, workflow_id):
        workflow = get_in_workspace(request, Workflow.objects.all(), Role.VIEWER, pk=workflow_id)
        return _list(request, workflow.workspace_id, workflow_id=workflow.pk)


def _list(request, workspace_id, workflow_id=None) -> Response:
    params = RunListParams(data={k: v for k, v in request.GET.items() if v != ""})
    params.is_valid(raise_exception=True)
    q = params.validated_data
    runs, next_cursor = selectors.run_list(
        workspace_id=workspace_id,
        workflow_id=workflow_id,
        status=q.get("status"),
        version=q.get("version"),
        trigger=q.get("trigger"),
        since=q.get("since"),
        until=q.get("until"),
        feedback=q.get("feedback"),
        cursor=q.get("cursor"),
        limit=q.get("limit", 50),
    )
    return Response({"results": [selectors.run_json(r, steps=False) for r in runs], "next_cursor": next_cursor})


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


def _uuid_or_404(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Http404 from None


class RunListApi(APIView):
    @extend_schema(
        summary="Runs in the workspace, newest first (filters: workflow, status, version, trigger, since, until; "
        "keyset cursor)",
        parameters=[
            OpenApiParameter(
                "workflow",
                # Like every filter here, an empty value means no filter.
                {"anyOf": [{"type": "string", "format": "uuid"}, {"type": "string", "enum": [""]}]},
                description="Runs of this workflow.",
            ),
            RunListParams,
        ],
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
        data = body_dict(request)
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
        data = body_dict(request)
        wait = _wait_seconds(data.get("wait"))
        from_step = data.get("from_step")
        if from_step is not None and not _is_uuid(from_step):
            raise ApplicationError(
                "validation_error", "from_step is a step id.", [{"field": "from_step", "message": "Not a step id."}]
            )
        new = services.run_rerun(
            run=run,
            by=request.user,
            from_step_id=from_step,
            callback_url=callback_url_check(data.get("callback_url")),
        )
        if wait:
            services.run_wait(run_id=new.pk, timeout_s=wait)
        return Response(selectors.run_json(selectors.run_queryset().get(pk=new.pk)), status=201)
