"""Workflow writes: create (blank, from a graph or a template), rename, archive, delete, save the
draft with optimistic concurrency, duplicate."""

from __future__ import annotations

import copy
import re

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User, Workspace
from builder.models import Workflow
from builder.services.audit import audit_record
from builder.services.graph import GRAPH_FORMAT, check_shape
from trellis.errors import ApplicationError

MAX_NAME = 200
MAX_DESCRIPTION = 5000


def starter_graph() -> dict:
    """A new workflow's draft: Start connected to End."""
    return {
        "format": GRAPH_FORMAT,
        "nodes": [
            {
                "id": "start",
                "type": "start",
                "name": "Start",
                "position": {"x": 0, "y": 0},
                "config": {
                    "input_schema": {"type": "object", "properties": {"message": {"type": "string"}}},
                    "state": {},
                },
            },
            {
                "id": "end",
                "type": "end",
                "name": "End",
                "position": {"x": 320, "y": 0},
                "config": {"output": {"message": "workflow.input.message"}},
            },
        ],
        "edges": [{"id": "e_start_end", "source": "start", "target": "end"}],
    }


def _clean_name(name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ApplicationError("validation_error", "A name is required.", [{"field": "name", "message": "Required."}])
    name = name.strip()
    if len(name) > MAX_NAME:
        raise ApplicationError(
            "validation_error",
            f"A name is at most {MAX_NAME} characters.",
            [{"field": "name", "message": f"At most {MAX_NAME} characters."}],
        )
    return name


def _clean_description(description) -> str:
    if description is None:
        return ""
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        raise ApplicationError(
            "validation_error",
            f"A description is text of at most {MAX_DESCRIPTION} characters.",
            [{"field": "description", "message": f"At most {MAX_DESCRIPTION} characters."}],
        )
    return description


@transaction.atomic
def workflow_create(
    *,
    workspace: Workspace,
    by: User | None,
    name: str,
    description: str = "",
    graph: dict | None = None,
    action: str = "workflow.created",
    audit_data: dict | None = None,
) -> Workflow:
    graph = check_shape(graph) if graph is not None else starter_graph()
    workflow = Workflow.objects.create(
        workspace=workspace,
        name=_clean_name(name),
        description=_clean_description(description),
        draft_graph=graph,
        draft_revision=1,
        created_by=by,
    )
    audit_record(workspace=workspace, actor=by, action=action, target=workflow, data=audit_data or {"name": name})
    return workflow


@transaction.atomic
def workflow_update(
    *,
    workflow: Workflow,
    by: User,
    name: str | None = None,
    description: str | None = None,
    archived: bool | None = None,
    slug: str | None = None,
    expose_as_tool: bool | None = None,
) -> Workflow:
    changes: dict = {}
    if name is not None:
        workflow.name = changes["name"] = _clean_name(name)
    if description is not None:
        workflow.description = changes["description"] = _clean_description(description)
    if slug is not None and slug != workflow.slug:
        workflow.slug = changes["slug"] = _clean_slug(workflow, slug)
    if expose_as_tool is not None and expose_as_tool != workflow.expose_as_tool:
        workflow.expose_as_tool = changes["expose_as_tool"] = expose_as_tool
        if expose_as_tool and not workflow.slug:
            workflow.slug = changes["slug"] = _free_slug(workflow, slugify(workflow.name)[:64] or "workflow")
    if archived is not None and archived != workflow.archived:
        workflow.archived_at = timezone.now() if archived else None
        changes["archived"] = archived
    if changes:
        workflow.save()
        action = "workflow.updated"
        if set(changes) == {"archived"}:
            action = "workflow.archived" if changes["archived"] else "workflow.unarchived"
        audit_record(workspace=workflow.workspace_id, actor=by, action=action, target=workflow, data=changes)
    return workflow


SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _clean_slug(workflow: Workflow, slug) -> str:
    """A slug is the workflow's MCP tool name: lower-case letters, digits, - and _, unique in the workspace."""
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        message = "A slug is 1-64 lower-case letters, digits, '-' or '_', starting with a letter or digit."
        raise ApplicationError("validation_error", message, [{"field": "slug", "message": message}])
    taken = Workflow.objects.filter(workspace_id=workflow.workspace_id, slug=slug).exclude(pk=workflow.pk)
    if taken.exists():
        raise ApplicationError(
            "slug_taken", f"Another workflow of this workspace has the slug {slug!r}.", [{"field": "slug"}], status=409
        )
    return slug


def _free_slug(workflow: Workflow, base: str) -> str:
    taken = set(
        Workflow.objects.filter(workspace_id=workflow.workspace_id, slug__startswith=base[:56])
        .exclude(pk=workflow.pk)
        .values_list("slug", flat=True)
    )
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base[:56]}-{n}"
    return slug


def workflow_archive(*, workflow: Workflow, by: User) -> Workflow:
    return workflow_update(workflow=workflow, by=by, archived=True)


@transaction.atomic
def workflow_delete(*, workflow: Workflow, by: User) -> None:
    audit_record(
        workspace=workflow.workspace_id,
        actor=by,
        action="workflow.deleted",
        target=workflow,
        data={"name": workflow.name},
    )
    # The published pointer refers to a version of this workflow; clear it so the cascade is clean.
    Workflow.objects.filter(pk=workflow.pk).update(published_version=None)
    workflow.delete()


def draft_save(*, workflow: Workflow, by: User, graph, revision, size: int | None = None) -> Workflow:
    """Replace the draft if `revision` is still current; otherwise 409 with the current revision."""
    if isinstance(revision, bool) or not isinstance(revision, int):
        raise ApplicationError(
            "validation_error",
            "'revision' (the draft revision this edit started from) is required.",
            [{"field": "revision", "message": "An integer is required."}],
        )
    check_shape(graph, size=size)  # before taking the row lock: it is the slow part
    with transaction.atomic():
        # The stored draft is not needed (only replaced): decoding a large one costs more than the write.
        current = (
            Workflow.objects.select_for_update()
            .only("id", "workspace_id", "draft_revision", "archived_at", "updated_at")
            .get(pk=workflow.pk)
        )
        if current.draft_revision != revision:
            raise ApplicationError(
                "conflict",
                "The draft was changed by someone else since you loaded it.",
                {"current_revision": current.draft_revision},
                status=409,
            )
        if current.archived:
            raise ApplicationError("archived", "This workflow is archived; unarchive it to edit.", status=409)
        current.draft_graph = graph
        current.draft_revision = revision + 1
        current.save(update_fields=["draft_graph", "draft_revision", "updated_at"])
        audit_record(
            workspace=current.workspace_id,
            actor=by,
            action="workflow.draft_saved",
            target=current,
            data={"revision": current.draft_revision},
        )
    return current


def workflow_duplicate(*, workflow: Workflow, by: User, name: str | None = None) -> Workflow:
    return workflow_create(
        workspace=workflow.workspace,
        by=by,
        name=name or f"Copy of {workflow.name}"[:MAX_NAME],
        description=workflow.description,
        graph=copy.deepcopy(workflow.draft_graph),
        action="workflow.duplicated",
        audit_data={"from": str(workflow.pk)},
    )
