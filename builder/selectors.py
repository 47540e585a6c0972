"""Builder reads: workflows of a workspace, versions of a workflow, audit events."""

from functools import lru_cache

from django.db.models import Max, QuerySet
from django.http import Http404

from builder.models import AuditEvent, Workflow, WorkflowVersion


def workflow_list(*, workspace_id, archived: bool | None = False, query: str = "") -> QuerySet[Workflow]:
    qs = Workflow.objects.filter(workspace_id=workspace_id).select_related("published_version")
    if archived is not None:
        qs = qs.filter(archived_at__isnull=not archived)
    if query:
        qs = qs.filter(name__icontains=query)
    return qs.annotate(latest_version=Max("versions__number")).order_by("-updated_at", "id")


def workflow_queryset() -> QuerySet[Workflow]:
    return Workflow.objects.select_related("published_version").annotate(latest_version=Max("versions__number"))


def version_list(*, workflow: Workflow) -> QuerySet[WorkflowVersion]:
    return workflow.versions.select_related("created_by").defer("graph").order_by("-number")


@lru_cache(maxsize=512)
def version_cached(version_id, workflow_id) -> WorkflowVersion:
    """A version read once per process: versions never change once published. Keyed with the workflow too,
    so that a reused row id (a restored database) can never match. Shared between callers and threads:
    read it, never change it (copy the graph to work on it)."""
    return WorkflowVersion.objects.get(pk=version_id, workflow_id=workflow_id)


def version_get(*, workflow: Workflow, number: int) -> WorkflowVersion:
    version = workflow.versions.select_related("created_by").filter(number=number).first()
    if version is None:
        raise Http404
    return version


def audit_list(*, workspace_id, target_type: str | None = None, target_id: str | None = None) -> QuerySet:
    qs = AuditEvent.objects.filter(workspace_id=workspace_id).select_related("actor")
    if target_type:
        qs = qs.filter(target_type=target_type)
    if target_id:
        qs = qs.filter(target_id=str(target_id))
    return qs.order_by("-created_at", "-id")
