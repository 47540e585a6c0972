"""Feedback on runs, datasets, their items (add, edit, import, export, from runs)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework.parsers import FileUploadParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from builder.apis.common import workflow_for
from evals import selectors
from evals.apis.common import OBJ, _dataset, _dataset_by_id, _FormatIsOurs, _run
from evals.apis.serializers import (
    AddedOut,
    AddToDatasetIn,
    DatasetIn,
    DatasetItemOut,
    DatasetOut,
    DatasetPatchIn,
    FeedbackIn,
    FeedbackOut,
    FromRunsIn,
    ImportedOut,
    ItemIn,
    ItemPatchIn,
    ItemsIn,
)
from evals.models import Dataset, DatasetItem
from evals.services import datasets as dataset_services
from evals.services import feedback as feedback_services
from evals.services.datasets import import_too_large
from trellis.bodies import body_dict
from trellis.errors import ApplicationError


class RunFeedbackApi(APIView):
    @extend_schema(
        summary="Feedback on a run and its steps (approvals included)", responses={200: FeedbackOut(many=True)}
    )
    def get(self, request, run_id):
        return Response(selectors.run_feedback(run=_run(request, run_id)))

    @extend_schema(
        summary="Thumbs up or down on a run's output or a step", request=FeedbackIn, responses={201: FeedbackOut}
    )
    def post(self, request, run_id):
        run = _run(request, run_id, Role.EDITOR)
        data = body_dict(request)
        feedback = feedback_services.feedback_create(
            run=run,
            score=data.get("score"),
            comment=data.get("comment") or "",
            step_id=data.get("step_id"),
            by=request.user,
        )
        return Response(selectors.feedback_json(feedback), status=201)


class RunAddToDatasetApi(APIView):
    @extend_schema(
        summary="Add a run to a dataset (its output becomes expected)",
        request=AddToDatasetIn,
        responses={201: DatasetItemOut},
    )
    def post(self, request, run_id):
        run = _run(request, run_id, Role.EDITOR)
        data = body_dict(request)
        dataset = _dataset_by_id(run.workflow, data.get("dataset"))
        item = dataset_services.run_add_to_dataset(
            run=run, dataset=dataset, expected=data.get("expected"), has_expected="expected" in data
        )
        return Response(selectors.item_json(item), status=201)


class DatasetListApi(APIView):
    @extend_schema(summary="Datasets of a workflow", responses={200: DatasetOut(many=True)})
    def get(self, request, workflow_id):
        workflow = workflow_for(request, workflow_id, light=True)
        return Response([selectors.dataset_json(d) for d in Dataset.objects.filter(workflow=workflow).order_by("name")])

    @extend_schema(summary="Create a dataset", request=DatasetIn, responses={201: DatasetOut})
    def post(self, request, workflow_id):
        workflow = workflow_for(request, workflow_id, Role.EDITOR, light=True)
        data = body_dict(request)
        dataset = dataset_services.dataset_create(
            workflow=workflow,
            name=data.get("name"),
            description=data.get("description") or "",
            graders=data.get("graders"),
            by=request.user,
        )
        return Response(selectors.dataset_json(dataset, item_count=0), status=201)


class DatasetDetailApi(APIView):
    @extend_schema(summary="A dataset", responses=DatasetOut)
    def get(self, request, workflow_id, dataset_id):
        return Response(selectors.dataset_json(_dataset(request, workflow_id, dataset_id)))

    @extend_schema(
        summary="Rename, describe, or set the graders of a dataset", request=DatasetPatchIn, responses=DatasetOut
    )
    def patch(self, request, workflow_id, dataset_id):
        dataset = _dataset(request, workflow_id, dataset_id, Role.EDITOR)
        return Response(selectors.dataset_json(dataset_services.dataset_update(dataset=dataset, **body_dict(request))))

    @extend_schema(summary="Delete a dataset with its items and evals", responses={204: None})
    def delete(self, request, workflow_id, dataset_id):
        dataset_services.dataset_delete(dataset=_dataset(request, workflow_id, dataset_id, Role.EDITOR))
        return Response(status=204)


class DatasetItemsApi(APIView):
    @extend_schema(summary="Items of a dataset", responses={200: DatasetItemOut(many=True)})
    def get(self, request, workflow_id, dataset_id):
        dataset = _dataset(request, workflow_id, dataset_id)
        return Response([selectors.item_json(i) for i in selectors.dataset_items(dataset=dataset)])

    @extend_schema(
        summary="Add one item or {items: [...]}",
        request=PolymorphicProxySerializer("DatasetItemsIn", [ItemsIn, ItemIn], resource_type_field_name=None),
        responses={201: DatasetItemOut(many=True)},
    )
    def post(self, request, workflow_id, dataset_id):
        dataset = _dataset(request, workflow_id, dataset_id, Role.EDITOR)
        data = body_dict(request)
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

    @extend_schema(summary="Edit an item (its revision goes up)", request=ItemPatchIn, responses=DatasetItemOut)
    def patch(self, request, workflow_id, dataset_id, item_id):
        item = self._item(request, workflow_id, dataset_id, item_id, Role.EDITOR)
        return Response(selectors.item_json(dataset_services.item_update(item=item, **body_dict(request))))

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
        responses={201: ImportedOut},
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
            try:
                content = request.body
            except RequestDataTooBig:  # a chunked body has no Content-Length to refuse it by beforehand
                raise import_too_large(None) from None
            fmt = _import_format(request)
        created = dataset_services.items_import(dataset=dataset, content=content, fmt=fmt)
        return Response({"imported": len(created)}, status=201)


class DatasetExportApi(APIView):
    content_negotiation_class = _FormatIsOurs

    @extend_schema(
        summary="The items as CSV or JSONL (?format=csv|jsonl)",
        responses={(200, "text/csv"): OpenApiTypes.STR, (200, "application/jsonl"): OpenApiTypes.STR},
    )
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
        request=FromRunsIn,
        responses={201: AddedOut},
    )
    def post(self, request, workflow_id, dataset_id):
        dataset = _dataset(request, workflow_id, dataset_id, Role.EDITOR)
        data = body_dict(request)
        filters = data.get("filter") or data
        _version_filter_check(filters)
        runs = selectors.runs_matching(workflow=dataset.workflow, filters=filters)
        created = dataset_services.runs_add_to_dataset(dataset=dataset, runs=runs)
        return Response({"added": len(created)}, status=201)


def _version_filter_check(filters) -> None:
    """A version filter that is no number was a 500 (the query's integer lookup raised): it is a 400."""
    version = filters.get("version") if isinstance(filters, dict) else None
    if version in (None, "", "draft"):
        return
    try:
        int(version)
    except (TypeError, ValueError, OverflowError):
        raise ApplicationError(
            "validation_error", 'filter.version is "draft" or a version number.', [{"field": "filter.version"}]
        ) from None
