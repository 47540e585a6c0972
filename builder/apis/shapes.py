"""Request and response shapes of the builder API, for the OpenAPI document (views build plain dicts)."""

from rest_framework import serializers

from builder.catalog import NODE_TYPES
from builder.services.graph import EDGE_ID_RE, GRAPH_FORMAT, MAX_NAME_LENGTH, NODE_ID_RE, PORT_RE
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
    slug = serializers.CharField(help_text="the MCP tool name when exposed; empty until set or first exposed")
    expose_as_tool = serializers.BooleanField(help_text="the published version is a tool of POST /mcp")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


# The shape of a trellis.graph/1 graph as every save checks it (builder/services/graph.py `shape_errors`);
# whether it makes sense (a cycle, a broken expression) is validation's business, not the shape's.
class GraphPositionIn(ClosedSerializer):
    x = serializers.FloatField()
    y = serializers.FloatField()


class GraphViewportIn(ClosedSerializer):
    x = serializers.FloatField(required=False)
    y = serializers.FloatField(required=False)
    zoom = serializers.FloatField(required=False)


class GraphNodeIn(ClosedSerializer):
    id = serializers.RegexField(NODE_ID_RE.pattern, help_text="unique in the graph")
    type = serializers.ChoiceField(choices=sorted(NODE_TYPES))
    name = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=MAX_NAME_LENGTH)
    position = GraphPositionIn(required=False, allow_null=True)
    config = serializers.DictField(required=False, allow_null=True, help_text="per type: GET /api/v1/node-types")


class GraphEdgeIn(ClosedSerializer):
    id = serializers.RegexField(EDGE_ID_RE.pattern, help_text="unique in the graph")
    source = serializers.RegexField(NODE_ID_RE.pattern)
    target = serializers.RegexField(NODE_ID_RE.pattern)
    source_port = serializers.RegexField(PORT_RE.pattern, required=False, allow_null=True, help_text="default out")


class GraphIn(ClosedSerializer):
    format = serializers.ChoiceField(choices=[GRAPH_FORMAT])
    nodes = GraphNodeIn(many=True)
    edges = GraphEdgeIn(many=True)
    viewport = GraphViewportIn(required=False, allow_null=True)


class WorkflowCreateIn(ClosedSerializer):
    name = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=200,
        help_text="Required unless a template gives it.",
    )
    description = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=5000)
    graph = GraphIn(required=False, allow_null=True, help_text="default (or null): Start → End")
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
    slug = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=100, help_text="the MCP tool name"
    )
    expose_as_tool = serializers.BooleanField(
        required=False, allow_null=True, help_text="list it as a tool of POST /mcp; null or absent: unchanged"
    )


class DraftOut(serializers.Serializer):
    graph = serializers.JSONField()
    revision = serializers.IntegerField()
    updated_at = serializers.DateTimeField()


class DraftIn(ClosedSerializer):
    graph = GraphIn()
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


class DynamicPortsOut(serializers.Serializer):
    list_field = serializers.CharField(help_text="one port per item of config[list_field]")
    id_key = serializers.CharField(help_text="the item key naming the port")
    label_key = serializers.CharField(help_text="the item key labelling the port")


class NodeOutputOut(serializers.Serializer):
    schema = serializers.JSONField(allow_null=True, help_text="JSON Schema of the output, when fixed")
    schema_from = serializers.CharField(
        allow_null=True, help_text="JSON Pointer into the config to the output's JSON Schema, when set there"
    )
    keys_from = serializers.CharField(
        allow_null=True, help_text="JSON Pointer into the config to a map whose keys are the output's keys"
    )


class NodeTypeOut(serializers.Serializer):
    type = serializers.CharField()
    group = serializers.ChoiceField(choices=["core", "tools", "logic", "data"])
    label = serializers.CharField()
    description = serializers.CharField()
    icon = serializers.CharField(help_text="one glyph")
    docs_url = serializers.CharField(allow_null=True)
    config_schema = serializers.JSONField()
    defaults = serializers.JSONField()
    ports = serializers.ListField(child=serializers.CharField(), help_text="static output ports")
    dynamic_ports = DynamicPortsOut(allow_null=True, help_text="ports read from the config, before the static ones")
    output = NodeOutputOut()
    executable = serializers.BooleanField()
    inline = serializers.BooleanField(help_text="runs on the run's own thread (no I/O)")
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
    graph = GraphIn()
    exported_at = serializers.JSONField(required=False, help_text="Recorded by the export, not read.")
    source = serializers.JSONField(required=False, help_text="Recorded, never used.")
