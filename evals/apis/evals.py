"""Evals (start, list, detail, compare) and the publish gate."""

from __future__ import annotations

import json

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from builder.apis.common import workflow_for
from evals import selectors
from evals.apis.common import _dataset_by_id, _eval
from evals.apis.serializers import (
    PUBLISH_GATE_IN,
    PUBLISH_GATE_OR_NULL,
    EvalCompareOut,
    EvalOut,
    EvalStartedOut,
    EvalStartIn,
    GraderCheckIn,
    GraderCheckOut,
)
from evals.graders import grader_check
from evals.services import evals as eval_services
from evals.services import gate as gate_services
from trellis.bodies import body_dict
from trellis.errors import ApplicationError


def _version_arg(value):
    if value in (None, "draft", "published"):
        return value or "draft"
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


class EvalListApi(APIView):
    @extend_schema(
        summary="Evals of a workflow, newest first",
        responses={200: EvalOut(many=True)},
        operation_id="workflow_evals_list",
    )
    def get(self, request, workflow_id):
        workflow = workflow_for(request, workflow_id, light=True)
        evals = selectors.eval_queryset().filter(workflow=workflow).order_by("-created_at")[:200]
        return Response([selectors.eval_json(e) for e in evals])

    @extend_schema(
        summary="Start an eval of a version or the draft on a dataset",
        request=EvalStartIn,
        responses={201: EvalStartedOut},
    )
    def post(self, request, workflow_id):
        workflow = workflow_for(request, workflow_id, Role.EDITOR)
        data = body_dict(request)
        dataset = _dataset_by_id(workflow, data.get("dataset"))
        ev = eval_services.eval_start(
            workflow=workflow,
            dataset=dataset,
            version=_version_arg(data.get("version")),
            graders=data.get("graders"),
            by=request.user,
        )
        return Response({"id": str(ev.pk), "status": ev.status}, status=201)


class EvalDetailApi(APIView):
    @extend_schema(summary="An eval: status, summary and its items", responses=EvalOut)
    def get(self, request, workflow_id, eval_id):
        return Response(selectors.eval_json(_eval(request, workflow_id, eval_id), results=True))


class GraderCheckApi(APIView):
    @extend_schema(
        summary="Check one grader without saving it {grader}: 200 when valid, else 400 invalid_grader "
        "(a CEL expression that does not compile says why)",
        request=GraderCheckIn,
        responses=GraderCheckOut,
    )
    def post(self, request, workflow_id):
        workflow_for(request, workflow_id, light=True)  # any member may check; the workspace scopes it
        grader = grader_check(body_dict(request).get("grader"), "grader")
        return Response({"valid": True, "grader": grader})


class EvalCancelApi(APIView):
    @extend_schema(
        summary="Cancel an eval in progress (its finished items keep their scores)", request=None, responses=EvalOut
    )
    def post(self, request, workflow_id, eval_id):
        ev = eval_services.eval_cancel(ev=_eval(request, workflow_id, eval_id, Role.EDITOR))
        return Response(selectors.eval_json(selectors.eval_queryset().get(pk=ev.pk), results=True))


class EvalCompareApi(APIView):
    @extend_schema(summary="Two evals item by item, with regressions and improvements", responses=EvalCompareOut)
    def get(self, request, workflow_id, eval_id, other_id):
        a = _eval(request, workflow_id, eval_id)
        b = _eval(request, workflow_id, other_id)
        return Response(selectors.eval_compare(a=a, b=b))


def _gate_response(workflow) -> HttpResponse:
    # JSON null when there is no gate (DRF renders a None body as nothing at all).
    return HttpResponse(json.dumps(selectors.gate_json(workflow=workflow)), content_type="application/json")


class PublishGateApi(APIView):
    @extend_schema(summary="The workflow's publish gate, or null", responses={200: PUBLISH_GATE_OR_NULL})
    def get(self, request, workflow_id):
        workflow = workflow_for(request, workflow_id, light=True)
        return _gate_response(workflow)

    @extend_schema(
        summary="Set the publish gate {dataset, min_pass_rate}, or null to remove it",
        request={"application/json": PUBLISH_GATE_IN},
        responses={200: PUBLISH_GATE_OR_NULL},
    )
    def put(self, request, workflow_id):
        workflow = workflow_for(request, workflow_id, Role.EDITOR, light=True)
        data = request.data
        if data is None or (isinstance(data, dict) and data.get("dataset") is None):
            gate_services.publish_gate_set(workflow=workflow, dataset=None)
            return _gate_response(workflow)
        if not isinstance(data, dict):
            raise ApplicationError("bad_request", "The body must be {dataset, min_pass_rate} or null.")
        dataset = _dataset_by_id(workflow, data.get("dataset"))
        gate_services.publish_gate_set(workflow=workflow, dataset=dataset, min_pass_rate=data.get("min_pass_rate"))
        return _gate_response(workflow)
