"""Read-only, workspace-wide audit log (who created, edited, published, restored, ran, deleted what), for the
audit screen. Mounted by builder/audit_urls.py."""

from __future__ import annotations

import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.permissions import current_workspace
from builder import selectors
from builder.models import Workflow
from trellis.bodies import int_param

MAX_PAGE = 200


def audit_page(*, workspace_id, action: str = "", before: int | None = None, limit: int = 50) -> dict:
    """Newest first, keyset on id; workflow targets carry their current name."""
    qs = selectors.audit_list(workspace_id=workspace_id)
    if action:
        qs = qs.filter(action__startswith=action)
    if before is not None:
        qs = qs.filter(id__lt=before)
    events = list(qs.order_by("-id")[: limit + 1])
    page = events[:limit]
    workflow_ids = set()
    for e in page:
        if e.target_type == "workflow":
            try:
                workflow_ids.add(uuid.UUID(e.target_id))
            except ValueError:
                pass
    names = {str(pk): name for pk, name in Workflow.objects.filter(pk__in=workflow_ids).values_list("pk", "name")}
    return {
        "results": [
            {
                "id": e.id,
                "action": e.action,
                "actor": e.actor.email if e.actor else None,
                "target_type": e.target_type,
                "target_id": e.target_id,
                "target_name": names.get(e.target_id) if e.target_type == "workflow" else None,
                "data": e.data,
                "created_at": e.created_at,
            }
            for e in page
        ],
        "next_before": page[-1].id if len(events) > limit else None,
    }


class WorkspaceAuditApi(APIView):
    @extend_schema(
        summary="The workspace's audit log, newest first (?action=workflow.&before=<id>&limit=)",
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        membership = current_workspace(request, Role.VIEWER)
        before = int_param(request, "before")
        limit = max(1, min(int_param(request, "limit", 50), MAX_PAGE))
        return Response(
            audit_page(
                workspace_id=membership.workspace_id,
                action=request.GET.get("action", ""),
                before=before,
                limit=limit,
            )
        )
