"""Request and response shapes of the builder API, for the OpenAPI document (views build plain dicts)."""

from rest_framework import serializers

from builder.services.templates import TEMPLATES
from builder.services.transfer import EXPORT_FORMAT
from trellis.fields import StrictCharField
from trellis.openapi import ClosedSerializer


class WorkflowOut(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField()
    published_version = serializers.IntegerField(allow_null=True)
    latest_version = serializers.IntegerField(allow_null=True)
    draft_revision = serializers.IntegerField()
    archived = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class WorkflowCreateIn(ClosedSerializer):
    name = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=200,
        help_text="Required unless a template gives it.",
    )
    description = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=5000)
    graph = serializers.JSONField(
        required=False, allow_null=True, help_text="A trellis.graph/1 graph; default (or null) Start → End."
    )
    template = serializers.ChoiceField(
        choices=list(TEMPLATES),
        required=False,
        allow_null=True,
        help_text="Slug from GET /api/v1/templates; null for none.",
    )


class WorkflowPatchIn(ClosedSerializer):
    name = serializers.CharField(required=False, allow_null=True, max_length=200, help_text="null or absent: unchanged")
    description = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=5000)
    archived = serializers.BooleanField(required=False, allow_null=True)


class DraftOut(serializers.Serializer):
    graph = serializers.JSONField()
    revision = serializers.IntegerField()
    updated_at = serializers.DateTimeField()


class DraftIn(ClosedSerializer):
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
    note = StrictCharField(required=False, allow_blank=True, allow_null=True)


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
    name = StrictCharField(
        required=False, allow_blank=True, allow_null=True, max_length=200, help_text='default "Copy of …"'
    )


class AuditOut(serializers.Serializer):
    action = serializers.CharField()
    actor = serializers.EmailField(allow_null=True)
    data = serializers.JSONField()
    created_at = serializers.DateTimeField()


class ImportWorkflowIn(ClosedSerializer):
    name = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    description = serializers.CharField(required=False, allow_blank=True, allow_null=True)


class ImportIn(ClosedSerializer):
    """An exported document (GET …/export), as it was written."""

    format = serializers.ChoiceField(choices=[EXPORT_FORMAT])
    workflow = ImportWorkflowIn()
    graph = serializers.JSONField(help_text="A trellis.graph/1 graph.")
    exported_at = serializers.JSONField(required=False, help_text="Recorded by the export, not read.")
    source = serializers.JSONField(required=False, help_text="Recorded, never used.")
