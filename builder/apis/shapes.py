"""Request and response shapes of the builder API, for the OpenAPI document (views build plain dicts)."""

from rest_framework import serializers


class WorkflowOut(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField()
    published_version = serializers.IntegerField(allow_null=True)
    latest_version = serializers.IntegerField(allow_null=True)
    draft_revision = serializers.IntegerField()
    archived = serializers.BooleanField()
    slug = serializers.CharField(help_text="the MCP tool name when exposed; empty until set or first exposed")
    expose_as_tool = serializers.BooleanField(help_text="the published version is a tool of POST /mcp")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class WorkflowCreateIn(serializers.Serializer):
    name = serializers.CharField(required=False)
    description = serializers.CharField(required=False)
    graph = serializers.JSONField(required=False, help_text="A trellis.graph/1 graph; default Start → End.")
    template = serializers.CharField(required=False, help_text="Slug from GET /api/v1/templates.")


class WorkflowPatchIn(serializers.Serializer):
    name = serializers.CharField(required=False)
    description = serializers.CharField(required=False)
    archived = serializers.BooleanField(required=False)
    slug = serializers.CharField(required=False)
    expose_as_tool = serializers.BooleanField(required=False)


class DraftOut(serializers.Serializer):
    graph = serializers.JSONField()
    revision = serializers.IntegerField()
    updated_at = serializers.DateTimeField()


class DraftIn(serializers.Serializer):
    graph = serializers.JSONField()
    revision = serializers.IntegerField(help_text="The revision this edit started from; stale → 409.")


class IssueOut(serializers.Serializer):
    severity = serializers.ChoiceField(choices=["error", "warning"])
    node_id = serializers.CharField(allow_null=True)
    field = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class ValidateIn(serializers.Serializer):
    graph = serializers.JSONField(required=False, help_text="Validate this graph instead of the stored draft.")


class PublishIn(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True)


class VersionOut(serializers.Serializer):
    number = serializers.IntegerField()
    note = serializers.CharField()
    checksum = serializers.CharField()
    created_by = serializers.EmailField(allow_null=True)
    created_at = serializers.DateTimeField()
    published = serializers.BooleanField()


class VersionDetailOut(VersionOut):
    graph = serializers.JSONField()


class NodeTypeOut(serializers.Serializer):
    type = serializers.CharField()
    group = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    icon = serializers.CharField()
    config_schema = serializers.JSONField()
    defaults = serializers.JSONField()
    ports = serializers.ListField(child=serializers.CharField())
    dynamic_ports = serializers.BooleanField()
    executable = serializers.BooleanField()
    available = serializers.BooleanField()
    unavailable_reason = serializers.CharField(allow_null=True)


class TemplateOut(serializers.Serializer):
    id = serializers.CharField()
    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    uses_llm = serializers.BooleanField()
    graph = serializers.JSONField()


class ImportOut(WorkflowOut):
    issues = IssueOut(many=True, help_text="Validation issues of the imported draft (it is stored either way).")


class NameIn(serializers.Serializer):
    name = serializers.CharField(required=False)


class AuditOut(serializers.Serializer):
    action = serializers.CharField()
    actor = serializers.EmailField(allow_null=True)
    data = serializers.JSONField()
    created_at = serializers.DateTimeField()
