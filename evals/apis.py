"""REST API of the data flywheel (DESIGN §10). Views are thin: look up with role checks, call a service,
render with a selector. Viewers read; editors write and start evals."""

from __future__ import annotations

import json
import uuid

from django.conf import settings
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import FileUploadParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ModelProvider, Role
from accounts.permissions import current_workspace, get_in_workspace, require_role
from builder.apis.common import workflow_for
from evals import selectors
from evals.models import Dataset, DatasetItem, Eval, FinetuneExport, FinetuneJob
from evals.services import datasets as dataset_services
from evals.services import evals as eval_services
from evals.services import feedback as feedback_services
from evals.services import finetune as finetune_services
from evals.services import gate as gate_services
from evals.services.datasets import import_too_large
from runs.models import Run
from trellis.errors import ApplicationError

OBJ = OpenApiTypes.OBJECT


class _FormatIsOurs(DefaultContentNegotiation):
    """`?format=csv|jsonl` names the file format here, not DRF's renderer: answers are always JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _body(request) -> dict:
    if request.data in (None, ""):
        return {}
    if not isinstance(request.data, dict):
        raise ApplicationError("bad_request", "The body must be a JSON object.")
    return request.data


def _run(request, run_id, role=Role.VIEWER) -> Run:
    return get_in_workspace(request, Run.objects.all(), role, pk=run_id)


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def _dataset(request, workflow_id, dataset_id, role=Role.VIEWER) -> Dataset:
    return get_in_workspace(
        request, Dataset.objects.select_related("workflow"), role, pk=dataset_id, workflow_id=workflow_id
    )


def _dataset_by_id(workflow, value) -> Dataset:
    pk = _uuid(value)
    found = Dataset.objects.select_related("workflow").filter(pk=pk, workflow=workflow).first() if pk else None
    if found is None:
        raise ApplicationError(
            "validation_error", "No such dataset in this workflow.", [{"field": "dataset"}], status=422
        )
    return found


def _eval(request, workflow_id, eval_id, role=Role.VIEWER) -> Eval:
    return get_in_workspace(request, selectors.eval_queryset(), role, pk=eval_id, workflow_id=workflow_id)


class RunFeedbackApi(APIView):
    @extend_schema(summary="Feedback on a run and its steps (approvals included)", responses=OBJ)
    def get(self, request, run_id):
        return Response(selectors.run_feedback(run=_run(request, run_id)))

    @extend_schema(summary="Thumbs up or down on a run's output or a step", request=OBJ, responses={201: OBJ})
    def post(self, request, run_id):
        run = _run(request, run_id, Role.EDITOR)
        data = _body(request)
        feedback = feedback_services.feedback_create(
            run=run,
            score=data.get("score"),
            comment=data.get("comment") or "",
            step_id=data.get("step_id"),
            by=request.user,
        )
        return Response(selectors.feedback_json(feedback), status=201)


class RunAddToDatasetApi(APIView):
    @extend_schema(summary="Add a run to a dataset (its output becomes expected)", request=OBJ, responses={201: OBJ})
    def post(self, request, run_id):
        run = _run(request, run_id, Role.EDITOR)
        data = _body(request)
        dataset = _dataset_by_id(run.workflow, data.get("dataset"))
        item = dataset_services.run_add_to_dataset(
            run=run, dataset=dataset, expected=data.get("expected"), has_expected="expected" in data
        )
        return Response(selectors.item_json(item), status=201)


class DatasetListApi(APIView):
    @extend_schema(summary="Datasets of a workflow", responses=OBJ)
    def get(self, request, workflow_id):
        workflow = workflow_for(request, workflow_id, light=True)
        return Response([selectors.dataset_json(d) for d in Dataset.objects.filter(workflow=workflow).order_by("name")])

    @extend_schema(summary="Create a dataset {name, description?, graders?}", request=OBJ, responses={201: OBJ})
    def post(self, request, workflow_id):
        workflow = workflow_for(request, workflow_id, Role.EDITOR, light=True)
        data = _body(request)
        dataset = dataset_services.dataset_create(
            workflow=workflow,
            name=data.get("name"),
            description=data.get("description") or "",
            graders=data.get("graders"),
            by=request.user,
        )
        return Response(selectors.dataset_json(dataset, item_count=0), status=201)


class DatasetDetailApi(APIView):
    @extend_schema(summary="A dataset", responses=OBJ)
    def get(self, request, workflow_id, dataset_id):
        return Response(selectors.dataset_json(_dataset(request, workflow_id, dataset_id)))

    @extend_schema(summary="Rename, describe, or set the graders of a dataset", request=OBJ, responses=OBJ)
    def patch(self, request, workflow_id, dataset_id):
        dataset = _dataset(request, workflow_id, dataset_id, Role.EDITOR)
        return Response(selectors.dataset_json(dataset_services.dataset_update(dataset=dataset, **_body(request))))

    @extend_schema(summary="Delete a dataset with its items and evals", responses={204: None})
    def delete(self, request, workflow_id, dataset_id):
        dataset_services.dataset_delete(dataset=_dataset(request, workflow_id, dataset_id, Role.EDITOR))
        return Response(status=204)


class DatasetItemsApi(APIView):
    @extend_schema(summary="Items of a dataset", responses=OBJ)
    def get(self, request, workflow_id, dataset_id):
        dataset = _dataset(request, workflow_id, dataset_id)
        return Response([selectors.item_json(i) for i in selectors.dataset_items(dataset=dataset)])

    @extend_schema(summary="Add one item or {items: [...]}", request=OBJ, responses={201: OBJ})
    def post(self, request, workflow_id, dataset_id):
        dataset = _dataset(request, workflow_id, dataset_id, Role.EDITOR)
        data = _body(request)
        items = data["items"] if "items" in data else [data]
        created = dataset_services.items_add(dataset=dataset, items=items)
        return Response([selectors.item_json(i) for i in created], status=201)


class DatasetItemDetailApi(APIView):
    def _item(self, request, workflow_id, dataset_id, item_id, role=Role.VIEWER) -> DatasetItem:
        dataset = _dataset(request, workflow_id, dataset_id, role)
        item = DatasetItem.objects.filter(pk=item_id, dataset=dataset, deleted_at__isnull=True).first()
        if item is None:
            raise Http404
        return item

    @extend_schema(summary="Edit an item (its revision goes up)", request=OBJ, responses=OBJ)
    def patch(self, request, workflow_id, dataset_id, item_id):
        item = self._item(request, workflow_id, dataset_id, item_id, Role.EDITOR)
        return Response(selectors.item_json(dataset_services.item_update(item=item, **_body(request))))

    @extend_schema(summary="Remove an item (evals that used it keep their copy)", responses={204: None})
    def delete(self, request, workflow_id, dataset_id, item_id):
        dataset_services.item_delete(item=self._item(request, workflow_id, dataset_id, item_id, Role.EDITOR))
        return Response(status=204)


def _import_format(request, filename: str = "") -> str:
    fmt = (request.query_params.get("format") or "").lower()
    if not fmt:
        lowered = filename.lower()
        content_type = (request.content_type or "").lower()
        fmt = "csv" if lowered.endswith(".csv") or "csv" in content_type else "jsonl"
    return fmt


class DatasetImportApi(APIView):
    content_negotiation_class = _FormatIsOurs
    parser_classes = [MultiPartParser, JSONParser, FileUploadParser]

    @extend_schema(
        summary="Import items from CSV or JSONL: multipart `file`, or the file as the body (?format=csv|jsonl)",
        request=OBJ,
        responses={201: OBJ},
    )
    def post(self, request, workflow_id, dataset_id):
        dataset = _dataset(request, workflow_id, dataset_id, Role.EDITOR)
        # Refused from the Content-Length alone, before any of the body is read.
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.EVAL_IMPORT_MAX_BYTES + 64 * 1024:
            raise import_too_large(length)
        if (request.content_type or "").startswith("multipart/"):
            upload = request.FILES.get("file")
            if upload is None:
                raise ApplicationError("validation_error", "Send the file in the `file` field.", [{"field": "file"}])
            if upload.size > settings.EVAL_IMPORT_MAX_BYTES:
                raise import_too_large(upload.size)
            content, fmt = upload.read(), _import_format(request, upload.name or "")
        else:
            content, fmt = request.body, _import_format(request)
        created = dataset_services.items_import(dataset=dataset, content=content, fmt=fmt)
        return Response({"imported": len(created)}, status=201)


class DatasetExportApi(APIView):
    content_negotiation_class = _FormatIsOurs

    @extend_schema(summary="The items as CSV or JSONL (?format=csv|jsonl)", responses={200: OpenApiTypes.STR})
    def get(self, request, workflow_id, dataset_id):
        dataset = _dataset(request, workflow_id, dataset_id)
        fmt = request.query_params.get("format") or "jsonl"
        if fmt not in ("csv", "jsonl"):
            raise ApplicationError("validation_error", 'format must be "csv" or "jsonl".', [{"field": "format"}])
        text = dataset_services.items_export(items=selectors.dataset_items(dataset=dataset), fmt=fmt)
        response = HttpResponse(text, content_type="text/csv" if fmt == "csv" else "application/jsonl")
        response["Content-Disposition"] = f'attachment; filename="dataset-{dataset.pk}.{fmt}"'
        return response


class DatasetFromRunsApi(APIView):
    @extend_schema(
        summary="Add the runs matching a filter {status?, version?, trigger?, feedback?: up|down, limit?}",
        request=OBJ,
        responses={201: OBJ},
    )
    def post(self, request, workflow_id, dataset_id):
        dataset = _dataset(request, workflow_id, dataset_id, Role.EDITOR)
        data = _body(request)
        runs = selectors.runs_matching(workflow=dataset.workflow, filters=data.get("filter") or data)
        created = dataset_services.runs_add_to_dataset(dataset=dataset, runs=runs)
        return Response({"added": len(created)}, status=201)


def _version_arg(value):
    if value in (None, "draft", "published"):
        return value or "draft"
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


class EvalListApi(APIView):
    @extend_schema(summary="Evals of a workflow, newest first", responses=OBJ, operation_id="workflow_evals_list")
    def get(self, request, workflow_id):
        workflow = workflow_for(request, workflow_id, light=True)
        evals = selectors.eval_queryset().filter(workflow=workflow).order_by("-created_at")[:200]
        return Response([selectors.eval_json(e) for e in evals])

    @extend_schema(summary='Start an eval {dataset, version: N|"draft", graders?}', request=OBJ, responses={201: OBJ})
    def post(self, request, workflow_id):
        workflow = workflow_for(request, workflow_id, Role.EDITOR)
        data = _body(request)
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
    @extend_schema(summary="An eval: status, summary and its items", responses=OBJ)
    def get(self, request, workflow_id, eval_id):
        return Response(selectors.eval_json(_eval(request, workflow_id, eval_id), results=True))


class EvalCompareApi(APIView):
    @extend_schema(summary="Two evals item by item, with regressions and improvements", responses=OBJ)
    def get(self, request, workflow_id, eval_id, other_id):
        a = _eval(request, workflow_id, eval_id)
        b = _eval(request, workflow_id, other_id)
        return Response(selectors.eval_compare(a=a, b=b))


def _gate_response(workflow) -> HttpResponse:
    # JSON null when there is no gate (DRF renders a None body as nothing at all).
    return HttpResponse(json.dumps(selectors.gate_json(workflow=workflow)), content_type="application/json")


class PublishGateApi(APIView):
    @extend_schema(summary="The workflow's publish gate, or null", responses=OBJ)
    def get(self, request, workflow_id):
        workflow = workflow_for(request, workflow_id, light=True)
        return _gate_response(workflow)

    @extend_schema(
        summary="Set the publish gate {dataset, min_pass_rate}, or null to remove it", request=OBJ, responses=OBJ
    )
    def put(self, request, workflow_id):
        workflow = workflow_for(request, workflow_id, Role.EDITOR, light=True)
        data = request.data
        if data in (None, "", {}) or (isinstance(data, dict) and data.get("dataset") is None):
            gate_services.publish_gate_set(workflow=workflow, dataset=None)
            return _gate_response(workflow)
        if not isinstance(data, dict):
            raise ApplicationError("bad_request", "The body must be {dataset, min_pass_rate} or null.")
        dataset = _dataset_by_id(workflow, data.get("dataset"))
        gate_services.publish_gate_set(workflow=workflow, dataset=dataset, min_pass_rate=data.get("min_pass_rate"))
        return _gate_response(workflow)


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
    @extend_schema(summary="Fine-tuning exports of a workflow", responses=OBJ)
    def get(self, request, workflow_id):
        workflow = workflow_for(request, workflow_id, light=True)
        exports = FinetuneExport.objects.filter(workflow=workflow).defer("content").order_by("-created_at")[:100]
        return Response([_export_json(e) for e in exports])

    @extend_schema(
        summary='Export one agent node\'s steps {node_id, method: "supervised"|"dpo"|"reinforcement", filters, '
        "grader?, base_model?}, validated",
        request=OBJ,
        responses={201: OBJ},
    )
    def post(self, request, workflow_id):
        workflow = workflow_for(request, workflow_id, Role.EDITOR)
        data = _body(request)
        export = finetune_services.finetune_export_create(
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
    @extend_schema(summary="Fine-tuning jobs of the workspace", responses=OBJ)
    def get(self, request):
        membership = current_workspace(request)
        jobs = FinetuneJob.objects.select_related("provider").filter(workspace=membership.workspace)
        return Response([_job_json(j) for j in jobs.order_by("-created_at")[:100]])

    @extend_schema(
        summary="Launch a job {export, provider, base_model, hyperparameters?}", request=OBJ, responses={201: OBJ}
    )
    def post(self, request):
        data = _body(request)
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
        job = finetune_services.finetune_job_create(
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
        summary="A job (?refresh=true asks the provider now instead of waiting for the worker)", responses=OBJ
    )
    def get(self, request, job_id):
        job = get_in_workspace(request, FinetuneJob.objects.select_related("provider"), Role.VIEWER, pk=job_id)
        if request.query_params.get("refresh") in ("1", "true"):
            job = finetune_services.finetune_job_poll(job=job)
        return Response(_job_json(job))


class FinetuneJobCancelApi(APIView):
    @extend_schema(summary="Cancel a job in progress", responses=OBJ)
    def post(self, request, job_id):
        job = get_in_workspace(request, FinetuneJob.objects.select_related("provider"), Role.EDITOR, pk=job_id)
        return Response(_job_json(finetune_services.finetune_job_cancel(job=job)))


class TryModelApi(APIView):
    @extend_schema(
        summary="Try a model in the draft {node_id, model, provider, copy?: true = in a duplicate workflow}",
        request=OBJ,
        responses={201: OBJ},
    )
    def post(self, request, workflow_id):
        workflow = workflow_for(request, workflow_id, Role.EDITOR)
        data = _body(request)
        provider = ModelProvider.objects.filter(
            workspace_id=workflow.workspace_id, pk=_int(data.get("provider"))
        ).first()
        if provider is None:
            raise ApplicationError(
                "validation_error", "No such provider in this workspace.", [{"field": "provider"}], status=422
            )
        tried = finetune_services.finetune_try_in_draft(
            workflow=workflow,
            node_id=data.get("node_id"),
            model=str(data.get("model") or ""),
            provider=provider,
            copy=bool(data.get("copy")),
            by=request.user,
        )
        return Response({"id": str(tried.pk), "name": tried.name, "revision": tried.draft_revision}, status=201)
