"""Publishing: validate the draft and freeze it as version N+1; restore a version into the draft;
move the published pointer back to an earlier version; diff two graphs.

Versions are immutable: nothing here (or anywhere) updates or deletes a WorkflowVersion row."""

from __future__ import annotations

import copy
from typing import Any

from django.db import transaction
from django.db.models import Max

from accounts.models import User
from builder.models import Workflow, WorkflowVersion
from builder.services.audit import audit_record
from builder.services.graph import edge_port, graph_checksum
from builder.services.validation import ERROR, validate_graph
from trellis.errors import ApplicationError

MAX_NOTE = 500

# Checks a draft must pass before it is published, called with (workflow=, by=) outside the publish
# transaction (they may take a while: the evals app's publish gate runs an eval). Each raises
# ApplicationError to refuse the publish, or returns the checksum of the draft it approved (None: no
# opinion); a draft edited meanwhile is not published. Apps register theirs in AppConfig.ready.
PUBLISH_GATES: list = []


def workflow_publish(*, workflow: Workflow, by: User, note: str = "") -> WorkflowVersion:
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise ApplicationError(
            "validation_error",
            f"A note is text of at most {MAX_NOTE} characters.",
            [{"field": "note", "message": f"At most {MAX_NOTE} characters."}],
        )
    approved = [gate(workflow=workflow, by=by) for gate in PUBLISH_GATES]
    with transaction.atomic():
        current = Workflow.objects.select_for_update().get(pk=workflow.pk)
        if current.archived:
            raise ApplicationError("archived", "This workflow is archived; unarchive it to publish.", status=409)
        graph = current.draft_graph
        if any(checksum and checksum != graph_checksum(graph) for checksum in approved):
            raise ApplicationError(
                "draft_changed", "The draft changed while its publish gate was checked; publish again.", status=409
            )
        issues = validate_graph(graph, workspace_id=current.workspace_id)
        errors = [issue for issue in issues if issue["severity"] == ERROR]
        if errors:
            raise ApplicationError(
                "validation_failed",
                f"The workflow has {len(errors)} error{'s' if len(errors) != 1 else ''}; fix them to publish.",
                issues,
                status=422,
            )
        number = (current.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = WorkflowVersion.objects.create(
            workflow=current,
            number=number,
            graph=copy.deepcopy(graph),
            note=note.strip(),
            checksum=graph_checksum(graph),
            created_by=by,
        )
        current.published_version = version
        current.save(update_fields=["published_version", "updated_at"])
        audit_record(
            workspace=current.workspace_id,
            actor=by,
            action="workflow.published",
            target=current,
            data={"version": number, "note": version.note},
        )
    return version


@transaction.atomic
def version_restore(*, workflow: Workflow, version: WorkflowVersion, by: User) -> Workflow:
    """Copy a version's graph into the draft (a new draft revision; the old draft is replaced)."""
    current = Workflow.objects.select_for_update().get(pk=workflow.pk)
    current.draft_graph = copy.deepcopy(version.graph)
    current.draft_revision += 1
    current.save(update_fields=["draft_graph", "draft_revision", "updated_at"])
    audit_record(
        workspace=current.workspace_id,
        actor=by,
        action="workflow.restored",
        target=current,
        data={"version": version.number, "revision": current.draft_revision},
    )
    return current


@transaction.atomic
def version_make_published(*, workflow: Workflow, version: WorkflowVersion, by: User) -> Workflow:
    """Point the published version at an existing one (e.g. roll back to an earlier version)."""
    current = Workflow.objects.select_for_update().get(pk=workflow.pk)
    previous = current.published_version.number if current.published_version_id else None
    current.published_version = version
    current.save(update_fields=["published_version", "updated_at"])
    audit_record(
        workspace=current.workspace_id,
        actor=by,
        action="workflow.published_version_changed",
        target=current,
        data={"from": previous, "to": version.number},
    )
    return current


# --- Diff ----------------------------------------------------------------------------------------


def _flatten(value: Any, prefix: str, out: dict) -> None:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else key, out)
    elif isinstance(value, list) and value:
        for i, item in enumerate(value):
            _flatten(item, f"{prefix}[{i}]", out)
    else:
        out[prefix] = value


_MISSING = object()


def graph_diff(old: dict, new: dict) -> dict:
    """Nodes added/removed/changed (per field, positions ignored) and edges added/removed.

    Edges are compared by what they connect (source, port, target), not by their ids."""
    old_nodes = {n["id"]: n for n in old.get("nodes", [])}
    new_nodes = {n["id"]: n for n in new.get("nodes", [])}
    changed = []
    for node_id, node in new_nodes.items():
        if node_id not in old_nodes:
            continue
        before: dict = {}
        after: dict = {}
        _flatten({k: v for k, v in old_nodes[node_id].items() if k not in ("id", "position")}, "", before)
        _flatten({k: v for k, v in node.items() if k not in ("id", "position")}, "", after)
        changes = []
        for field in sorted(set(before) | set(after)):
            a, b = before.get(field, _MISSING), after.get(field, _MISSING)
            if a != b or type(a) is not type(b):
                changes.append(
                    {"field": field, "from": None if a is _MISSING else a, "to": None if b is _MISSING else b}
                )
        if changes:
            changed.append({"id": node_id, "changes": changes})

    def edge_key(edge: dict) -> tuple[str, str, str]:
        return (edge["source"], edge_port(edge), edge["target"])

    def edge_out(key: tuple[str, str, str]) -> dict:
        return {"source": key[0], "source_port": key[1], "target": key[2]}

    old_edges = {edge_key(e) for e in old.get("edges", [])}
    new_edges = {edge_key(e) for e in new.get("edges", [])}
    return {
        "nodes": {
            "added": [node_id for node_id in new_nodes if node_id not in old_nodes],
            "removed": [node_id for node_id in old_nodes if node_id not in new_nodes],
            "changed": changed,
        },
        "edges": {
            "added": [edge_out(k) for k in sorted(new_edges - old_edges)],
            "removed": [edge_out(k) for k in sorted(old_edges - new_edges)],
        },
    }
