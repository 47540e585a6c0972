"""Export a workflow as a JSON document and import one (checked like any draft; always a new
workflow with a fresh id in the importer's workspace, whatever ids the file carries)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from accounts.models import User, Workspace
from builder.models import Workflow, WorkflowVersion
from builder.services.graph import check_shape
from builder.services.workflows import workflow_create
from trellis.errors import ApplicationError

EXPORT_FORMAT = "trellis.export/1"
EXPORT_KEYS = {"format", "exported_at", "workflow", "graph", "source"}
WORKFLOW_KEYS = {"name", "description"}


def workflow_export(*, workflow: Workflow, version: WorkflowVersion | None = None) -> dict:
    return {
        "format": EXPORT_FORMAT,
        "exported_at": timezone.now().isoformat().replace("+00:00", "Z"),
        "workflow": {"name": workflow.name, "description": workflow.description},
        "source": {"workflow_id": str(workflow.pk), "version": version.number if version else None},
        "graph": version.graph if version else workflow.draft_graph,
    }


def _invalid(message: str, field: str) -> ApplicationError:
    return ApplicationError("invalid_import", message, [{"field": field, "message": message}])


def workflow_import(*, workspace: Workspace, by: User, document: Any, size: int | None = None) -> Workflow:
    if not isinstance(document, dict):
        raise _invalid("An import must be a JSON object.", "document")
    unknown = sorted(set(document) - EXPORT_KEYS)
    if unknown:
        raise _invalid(f"Unknown field '{unknown[0]}'.", unknown[0])
    if document.get("format") != EXPORT_FORMAT:
        raise _invalid(f"The format must be '{EXPORT_FORMAT}'.", "format")
    meta = document.get("workflow")
    if not isinstance(meta, dict):
        raise _invalid("'workflow' must be an object with a name.", "workflow")
    unknown = sorted(set(meta) - WORKFLOW_KEYS)
    if unknown:
        raise _invalid(f"Unknown field '{unknown[0]}'.", f"workflow.{unknown[0]}")
    if "graph" not in document:
        raise _invalid("'graph' is required.", "graph")
    check_shape(document["graph"], size=size)
    # `source` names the exporting workflow, possibly in another workspace: recorded, never used.
    source = document.get("source") if isinstance(document.get("source"), dict) else {}
    return workflow_create(
        workspace=workspace,
        by=by,
        name=meta.get("name") or "Imported workflow",
        description=meta.get("description") or "",
        graph=document["graph"],
        action="workflow.imported",
        audit_data={"source_workflow_id": str(source.get("workflow_id", ""))[:64]},
    )
