"""Workflows with their draft graph, immutable published versions, and the audit trail."""

import uuid

from django.conf import settings
from django.db import models

from accounts.models import Workspace


class Workflow(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="workflows")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    draft_graph = models.JSONField()
    # Bumped on every draft write; a PUT must name the revision it started from (optimistic concurrency).
    draft_revision = models.PositiveIntegerField(default=1)
    published_version = models.ForeignKey(
        "builder.WorkflowVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    archived_at = models.DateTimeField(null=True, blank=True)
    # The MCP tool name (POST /mcp), unique in the workspace; made from the name when first exposed.
    slug = models.SlugField(max_length=64, blank=True, default="")
    # "Expose as MCP tool": the published version is a tool of the workspace's MCP server (POST /mcp).
    expose_as_tool = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "-updated_at"], name="workflow_ws_updated")]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "slug"], condition=~models.Q(slug=""), name="unique_workflow_slug"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


class WorkflowVersion(models.Model):
    """A published snapshot of a graph. Immutable: no service or API ever changes one."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    graph = models.JSONField()
    note = models.CharField(max_length=500, blank=True, default="")
    checksum = models.CharField(max_length=64)  # sha256 of the canonical graph JSON
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workflow", "number"], name="unique_version_number")]
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"{self.workflow_id} v{self.number}"


class AuditEvent(models.Model):
    """Who did what to which object, when. Append-only."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="audit_events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    action = models.CharField(max_length=64)  # e.g. workflow.created, workflow.published
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "-created_at"], name="audit_ws_created"),
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
        ]
