"""Export a workflow as a JSON document and import one (checked like any draft; always a new
workflow with a fresh id in the importer's workspace, whatever ids the file carries)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from accounts.models import User, Workspace
from builder.catalog import NODE_TYPES
from builder.models import Workflow, WorkflowVersion
from builder.services.graph import check_shape
from builder.services.validation import schema_issues
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


def _unknown_config_fields(graph: dict) -> list[dict]:
    """Config keys no node type defines. A draft in the editor may be unfinished, but a file from
    elsewhere must not smuggle in fields that would be carried along unseen."""

    found = []
    for node in graph["nodes"]:
        config = node.get("config") or {}
        if NODE_TYPES[node["type"]].fast_validator.is_valid(config):
            continue
        for issue in schema_issues(node, config):
            if issue["message"].startswith("Unknown field"):
                found.append({"node_id": issue["node_id"], "field": issue["field"], "message": issue["message"]})
    return found


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
    for key in ("name", "description"):
        if meta.get(key) is not None and not isinstance(meta[key], str):  # {} or 0 must not pass as "no name"
            raise _invalid(f"'workflow.{key}' must be text.", f"workflow.{key}")
    if "graph" not in document:
        raise _invalid("'graph' is required.", "graph")
    check_shape(document["graph"], size=size)
    unknown_config = _unknown_config_fields(document["graph"])
    if unknown_config:
        raise ApplicationError("invalid_import", "The file has fields Trellis does not know.", unknown_config)
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
