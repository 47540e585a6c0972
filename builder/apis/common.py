"""Helpers shared by the builder views: body limits, object lookup with role checks, output dicts."""

from django.conf import settings
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter

from accounts.models import Role
from accounts.permissions import get_in_workspace
from builder import selectors
from builder.models import Workflow, WorkflowVersion
from trellis.errors import ApplicationError

ARCHIVED_PARAM = OpenApiParameter("archived", str, enum=["false", "true", "all"], description="Default false.")
QUERY_PARAM = OpenApiParameter("q", str, description="Filter by name.")
PERMANENT_PARAM = OpenApiParameter(
    "permanent", str, description="true (or 1, yes) deletes for good (admins); anything else archives."
)
VERSION_PARAM = OpenApiParameter("version", int, description="Export this version instead of the draft.")

# Room for the JSON around a graph (revision, export metadata) on top of the graph limit.
ENVELOPE_BYTES = 64 * 1024


def body_size(request) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) or None
    except ValueError:
        return None


def refuse_oversized(request) -> None:
    """Answer 413 from the Content-Length alone, before parsing a body that is too large anyway."""
    size = body_size(request)
    limit = settings.GRAPH_MAX_BYTES + ENVELOPE_BYTES
    if size is not None and size > limit:
        raise ApplicationError("payload_too_large", f"The request is {size} bytes; the limit is {limit}.", status=413)


def workflow_out(workflow: Workflow) -> dict:
    latest = getattr(workflow, "latest_version", None)
    if latest is None and not hasattr(workflow, "latest_version"):
        latest = workflow.versions.order_by("-number").values_list("number", flat=True).first()
    return {
        "id": str(workflow.pk),
        "name": workflow.name,
        "description": workflow.description,
        "published_version": workflow.published_version.number if workflow.published_version_id else None,
        "latest_version": latest,
        "draft_revision": workflow.draft_revision,
        "archived": workflow.archived,
        "slug": workflow.slug,
        "expose_as_tool": workflow.expose_as_tool,
        "created_at": workflow.created_at,
        "updated_at": workflow.updated_at,
    }


def draft_out(workflow: Workflow) -> dict:
    return {"graph": workflow.draft_graph, "revision": workflow.draft_revision, "updated_at": workflow.updated_at}


def version_out(version: WorkflowVersion, *, with_graph: bool = False, published_id=None) -> dict:
    out = {
        "number": version.number,
        "note": version.note,
        "checksum": version.checksum,
        "created_by": version.created_by.email if version.created_by_id and version.created_by else None,
        "created_at": version.created_at,
        "published": published_id is not None and version.pk == published_id,
    }
    if with_graph:
        out["graph"] = version.graph
    return out


def workflow_for(request, workflow_id, role: str = Role.VIEWER, *, light: bool = False) -> Workflow:
    """The workflow, checked for `role`; `light` skips the draft graph and version count."""
    queryset = Workflow.objects.defer("draft_graph") if light else selectors.workflow_queryset()
    return get_in_workspace(request, queryset, role, pk=workflow_id)


def version_number(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404
