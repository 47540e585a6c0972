"""Shared helpers of the evals API: the body, lookups with role checks (404 across workspaces, 403 below
the role), and the content negotiation of the import/export endpoints."""

from __future__ import annotations

import uuid

from drf_spectacular.types import OpenApiTypes
from rest_framework.negotiation import DefaultContentNegotiation

from accounts.models import Role
from accounts.permissions import get_in_workspace
from evals import selectors
from evals.models import Dataset, Eval
from runs.models import Run
from trellis.errors import ApplicationError

OBJ = OpenApiTypes.OBJECT


class _FormatIsOurs(DefaultContentNegotiation):
    """`?format=csv|jsonl` names the file format here, not DRF's renderer: answers are always JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


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
