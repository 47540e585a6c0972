"""Fine-tuning exports and jobs, and trying a fine-tuned model in the draft."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ModelProvider, Role
from accounts.permissions import current_workspace, get_in_workspace, require_role
from builder.apis.common import workflow_for
from evals.apis.common import _uuid
from evals.apis.serializers import (
    FinetuneExportIn,
    FinetuneExportOut,
    FinetuneJobIn,
    FinetuneJobOut,
    TriedModelOut,
    TryModelIn,
)
from evals.models import FinetuneExport, FinetuneJob
from evals.services import finetune_export as export_services
from evals.services import finetune_jobs as job_services
from trellis.bodies import body_dict
from trellis.errors import ApplicationError


def _export_json(export) -> dict:
    return {
        "id": str(export.pk),
        "workflow": str(export.workflow_id),
        "node_id": export.node_id,
        "method": export.method,
        "filters": export.filters,
        "examples": export.examples,
        "tokens": export.tokens,
        "estimated_cost": export.estimated_cost,
        "warnings": export.warnings,
        "grader": export.grader,
        "download_url": f"/api/v1/finetune-exports/{export.pk}/download",
        "created_at": export.created_at.isoformat().replace("+00:00", "Z"),
    }


def _job_json(job) -> dict:
    return {
        "id": str(job.pk),
        "export": str(job.export_id),
        "provider": job.provider_id,
        "provider_name": job.provider.name,
        "base_model": job.base_model,
        "hyperparameters": job.hyperparameters,
        "remote_id": job.remote_id,
        "status": job.status,
        "fine_tuned_model": job.fine_tuned_model or None,
        "events": job.events,
        "error": job.error,
        "created_at": job.created_at.isoformat().replace("+00:00", "Z"),
        "updated_at": job.updated_at.isoformat().replace("+00:00", "Z"),
    }


class FinetuneExportListApi(APIView):
    @extend_schema(summary="Fine-tuning exports of a workflow", responses={200: FinetuneExportOut(many=True)})
    def get(self, request, workflow_id):
        workflow = workflow_for(request, workflow_id, light=True)
        exports = FinetuneExport.objects.filter(workflow=workflow).defer("content").order_by("-created_at")[:100]
        return Response([_export_json(e) for e in exports])

    @extend_schema(
        summary='Export one agent node\'s steps {node_id, method: "supervised"|"dpo"|"reinforcement", filters, '
        "grader?, base_model?}, validated",
        request=FinetuneExportIn,
        responses={201: FinetuneExportOut},
    )
    def post(self, request, workflow_id):
        workflow = workflow_for(request, workflow_id, Role.EDITOR)
        data = body_dict(request)
        export = export_services.finetune_export_create(
            workflow=workflow,
            node_id=data.get("node_id"),
            method=data.get("method"),
            filters=data.get("filters") or {},
            grader=data.get("grader"),
            base_model=data.get("base_model") or "",
            by=request.user,
        )
        return Response(_export_json(export), status=201)


class FinetuneExportDownloadApi(APIView):
    @extend_schema(summary="The export's JSONL", responses={200: OpenApiTypes.STR})
    def get(self, request, export_id):
        export = get_in_workspace(request, FinetuneExport.objects.all(), Role.VIEWER, pk=export_id)
        response = HttpResponse(export.content, content_type="application/jsonl")
        response["Content-Disposition"] = f'attachment; filename="finetune-{export.method}-{export.pk}.jsonl"'
        return response


class FinetuneJobListApi(APIView):
    @extend_schema(summary="Fine-tuning jobs of the workspace", responses={200: FinetuneJobOut(many=True)})
    def get(self, request):
        membership = current_workspace(request)
        jobs = FinetuneJob.objects.select_related("provider").filter(workspace=membership.workspace)
        return Response([_job_json(j) for j in jobs.order_by("-created_at")[:100]])

    @extend_schema(
        summary="Launch a job {export, provider, base_model, hyperparameters?}",
        request=FinetuneJobIn,
        responses={201: FinetuneJobOut},
    )
    def post(self, request):
        data = body_dict(request)
        export_id = _uuid(data.get("export"))
        export = FinetuneExport.objects.filter(pk=export_id).first() if export_id else None
        if export is None:
            raise ApplicationError("validation_error", "No such export.", [{"field": "export"}], status=422)
        membership = require_role(request, export.workspace_id, Role.EDITOR)
        provider = ModelProvider.objects.filter(workspace=membership.workspace, pk=_int(data.get("provider"))).first()
        if provider is None:
            raise ApplicationError(
                "validation_error", "No such provider in this workspace.", [{"field": "provider"}], status=422
            )
        job = job_services.finetune_job_create(
            export=export,
            provider=provider,
            base_model=data.get("base_model"),
            hyperparameters=data.get("hyperparameters"),
            by=request.user,
        )
        return Response(_job_json(job), status=201)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class FinetuneJobDetailApi(APIView):
    @extend_schema(
        summary="A job (?refresh=true asks the provider now instead of waiting for the worker)",
        responses=FinetuneJobOut,
    )
    def get(self, request, job_id):
        job = get_in_workspace(request, FinetuneJob.objects.select_related("provider"), Role.VIEWER, pk=job_id)
        if request.query_params.get("refresh") in ("1", "true"):
            job = job_services.finetune_job_poll(job=job)
        return Response(_job_json(job))


class FinetuneJobCancelApi(APIView):
    @extend_schema(summary="Cancel a job in progress", request=None, responses=FinetuneJobOut)
    def post(self, request, job_id):
        job = get_in_workspace(request, FinetuneJob.objects.select_related("provider"), Role.EDITOR, pk=job_id)
        return Response(_job_json(job_services.finetune_job_cancel(job=job)))


class TryModelApi(APIView):
    @extend_schema(
        summary="Try a model in the draft {node_id, model, provider, copy?: true = in a duplicate workflow}",
        request=TryModelIn,
        responses={201: TriedModelOut},
    )
    def post(self, request, workflow_id):
        workflow = workflow_for(request, workflow_id, Role.EDITOR)
        data = body_dict(request)
        provider = ModelProvider.objects.filter(
            workspace_id=workflow.workspace_id, pk=_int(data.get("provider"))
        ).first()
        if provider is None:
            raise ApplicationError(
                "validation_error", "No such provider in this workspace.", [{"field": "provider"}], status=422
            )
        tried = job_services.finetune_try_in_draft(
            workflow=workflow,
            node_id=data.get("node_id"),
            model=str(data.get("model") or ""),
            provider=provider,
            copy=bool(data.get("copy")),
            by=request.user,
        )
        return Response({"id": str(tried.pk), "name": tried.name, "revision": tried.draft_revision}, status=201)
