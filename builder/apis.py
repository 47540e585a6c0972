"""REST API for the builder: node catalog, workflows, drafts, validation, versions, import/export,
templates. Views are thin: check the role with accounts.permissions, call one service, shape the JSON.

Roles: viewers read (and may validate); editors create, edit, publish, restore and archive;
admins delete for good (`DELETE /workflows/<id>?permanent=true`)."""

from django.conf import settings
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.permissions import current_workspace, get_in_workspace, require_role
from builder import selectors
from builder.catalog import node_type_list
from builder.models import Workflow, WorkflowVersion
from builder.services import publish as publish_services
from builder.services import workflows as workflow_services
from builder.services.templates import TEMPLATES, template_get
from builder.services.transfer import workflow_export, workflow_import
from builder.services.validation import validate_graph
from trellis.errors import ApplicationError

ARCHIVED_PARAM = OpenApiParameter("archived", str, enum=["false", "true", "all"], description="Default false.")
QUERY_PARAM = OpenApiParameter("q", str, description="Filter by name.")
PERMANENT_PARAM = OpenApiParameter("permanent", bool, description="Delete for good (admins).")
VERSION_PARAM = OpenApiParameter("version", int, description="Export this version instead of the draft.")

# Room for the JSON around a graph (revision, export metadata) on top of the graph limit.
ENVELOPE_BYTES = 64 * 1024


def _body_size(request) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) or None
    except ValueError:
        return None


def _refuse_oversized(request) -> None:
    """Answer 413 from the Content-Length alone, before parsing a body that is too large anyway."""
    size = _body_size(request)
    limit = settings.GRAPH_MAX_BYTES + ENVELOPE_BYTES
    if size is not None and size > limit:
        raise ApplicationError("payload_too_large", f"The request is {size} bytes; the limit is {limit}.", status=413)


def _data(request) -> dict:
    if not isinstance(request.data, dict):
        raise ApplicationError("bad_request", "The body must be a JSON object.")
    return request.data


# --- Shapes, for the OpenAPI document (views build plain dicts) ------------------------------------


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


class WorkflowCreateIn(serializers.Serializer):
    name = serializers.CharField(required=False)
    description = serializers.CharField(required=False)
    graph = serializers.JSONField(required=False, help_text="A trellis.graph/1 graph; default Start → End.")
    template = serializers.CharField(required=False, help_text="Slug from GET /api/v1/templates.")


class WorkflowPatchIn(serializers.Serializer):
    name = serializers.CharField(required=False)
    description = serializers.CharField(required=False)
    archived = serializers.BooleanField(required=False)


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


def _workflow(request, workflow_id, role: str = Role.VIEWER, *, light: bool = False) -> Workflow:
    """The workflow, checked for `role`; `light` skips the draft graph and version count."""
    queryset = Workflow.objects.defer("draft_graph") if light else selectors.workflow_queryset()
    return get_in_workspace(request, queryset, role, pk=workflow_id)


def _version_number(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404


class NodeTypeListApi(APIView):
    @extend_schema(
        summary="The node catalog: config schemas, ports, defaults, display metadata", responses=NodeTypeOut(many=True)
    )
    def get(self, request):
        return Response(node_type_list())


class TemplateListApi(APIView):
    @extend_schema(summary="Shipped workflow templates", responses=TemplateOut(many=True))
    def get(self, request):
        return Response([template.as_dict() for template in TEMPLATES.values()])


class WorkflowListApi(APIView):
    @extend_schema(
        summary="Workflows of the current workspace",
        parameters=[ARCHIVED_PARAM, QUERY_PARAM],
        responses=WorkflowOut(many=True),
    )
    def get(self, request):
        membership = current_workspace(request, Role.VIEWER)
        archived_param = request.query_params.get("archived", "false").lower()
        archived = {"true": True, "false": False, "all": None}.get(archived_param, False)
        workflows = selectors.workflow_list(
            workspace_id=membership.workspace_id, archived=archived, query=request.query_params.get("q", "")
        )
        return Response([workflow_out(w) for w in workflows])

    @extend_schema(
        summary="Create a workflow (blank, from a graph, or from a template)",
        request=WorkflowCreateIn,
        responses={201: WorkflowOut},
    )
    def post(self, request):
        _refuse_oversized(request)
        membership = current_workspace(request, Role.EDITOR)
        data = _data(request)
        unknown = sorted(set(data) - {"name", "description", "graph", "template"})
        if unknown:
            raise ApplicationError(
                "validation_error", f"Unknown field '{unknown[0]}'.", [{"field": unknown[0], "message": "Unknown."}]
            )
        graph = data.get("graph")
        name = data.get("name")
        description = data.get("description", "")
        if data.get("template") is not None:
            template = template_get(data["template"])
            graph = template.graph()
            name = name or template.name
            description = description or template.description
        workflow = workflow_services.workflow_create(
            workspace=membership.workspace, by=request.user, name=name, description=description, graph=graph
        )
        return Response(workflow_out(_workflow(request, workflow.pk)), status=201)


class WorkflowDetailApi(APIView):
    @extend_schema(summary="A workflow", responses=WorkflowOut)
    def get(self, request, workflow_id):
        return Response(workflow_out(_workflow(request, workflow_id)))

    @extend_schema(summary="Rename, describe, archive or unarchive", request=WorkflowPatchIn, responses=WorkflowOut)
    def patch(self, request, workflow_id):
        workflow = _workflow(request, workflow_id, Role.EDITOR, light=True)
        data = _data(request)
        unknown = sorted(set(data) - {"name", "description", "archived"})
        if unknown:
            raise ApplicationError(
                "validation_error", f"Unknown field '{unknown[0]}'.", [{"field": unknown[0], "message": "Unknown."}]
            )
        archived = data.get("archived")
        if archived is not None and not isinstance(archived, bool):
            raise ApplicationError(
                "validation_error", "'archived' is a boolean.", [{"field": "archived", "message": "A boolean."}]
            )
        workflow_services.workflow_update(
            workflow=workflow,
            by=request.user,
            name=data.get("name"),
            description=data.get("description"),
            archived=archived,
        )
        return Response(workflow_out(_workflow(request, workflow_id)))

    @extend_schema(
        summary="Archive (editors), or delete for good with ?permanent=true (admins)",
        parameters=[PERMANENT_PARAM],
        responses={204: None},
    )
    def delete(self, request, workflow_id):
        if request.query_params.get("permanent", "").lower() in ("1", "true", "yes"):
            workflow = _workflow(request, workflow_id, Role.ADMIN)
            workflow_services.workflow_delete(workflow=workflow, by=request.user)
        else:
            workflow = _workflow(request, workflow_id, Role.EDITOR, light=True)
            workflow_services.workflow_archive(workflow=workflow, by=request.user)
        return Response(status=204)


class DraftApi(APIView):
    @extend_schema(summary="The draft graph and its revision", responses=DraftOut)
    def get(self, request, workflow_id):
        return Response(draft_out(_workflow(request, workflow_id)))

    @extend_schema(
        summary="Replace the draft (needs the current revision, else 409)", request=DraftIn, responses=DraftOut
    )
    def put(self, request, workflow_id):
        _refuse_oversized(request)
        workflow = _workflow(request, workflow_id, Role.EDITOR, light=True)
        data = _data(request)
        unknown = sorted(set(data) - {"graph", "revision"})
        if unknown:
            raise ApplicationError(
                "validation_error", f"Unknown field '{unknown[0]}'.", [{"field": unknown[0], "message": "Unknown."}]
            )
        if "graph" not in data:
            raise ApplicationError(
                "validation_error", "'graph' is required.", [{"field": "graph", "message": "Required."}]
            )
        saved = workflow_services.draft_save(
            workflow=workflow,
            by=request.user,
            graph=data["graph"],
            revision=data.get("revision"),
            size=_body_size(request),  # the graph is nearly all of the body: no need to re-encode it
        )
        return Response(draft_out(saved))


class ValidateApi(APIView):
    @extend_schema(
        summary="Validate the draft (or a graph sent in the body) and list its issues",
        request=ValidateIn,
        responses=IssueOut(many=True),
    )
    def post(self, request, workflow_id):
        _refuse_oversized(request)
        workflow = _workflow(request, workflow_id, Role.VIEWER)
        data = request.data if isinstance(request.data, dict) else {}
        graph = data["graph"] if "graph" in data else workflow.draft_graph
        return Response(validate_graph(graph, workspace_id=workflow.workspace_id))


class PublishApi(APIView):
    @extend_schema(
        summary="Publish the draft as a new immutable version (422 with the issues while errors exist)",
        request=PublishIn,
        responses={201: VersionDetailOut},
    )
    def post(self, request, workflow_id):
        workflow = _workflow(request, workflow_id, Role.EDITOR, light=True)
        data = request.data if isinstance(request.data, dict) else {}
        version = publish_services.workflow_publish(workflow=workflow, by=request.user, note=data.get("note") or "")
        return Response(version_out(version, with_graph=True, published_id=version.pk), status=201)


class VersionListApi(APIView):
    @extend_schema(summary="Published versions, newest first", responses=VersionOut(many=True))
    def get(self, request, workflow_id):
        workflow = _workflow(request, workflow_id)
        return Response(
            [
                version_out(v, published_id=workflow.published_version_id)
                for v in selectors.version_list(workflow=workflow)
            ]
        )


class VersionDetailApi(APIView):
    @extend_schema(summary="One version with its graph", responses=VersionDetailOut)
    def get(self, request, workflow_id, number):
        workflow = _workflow(request, workflow_id)
        version = selectors.version_get(workflow=workflow, number=number)
        return Response(version_out(version, with_graph=True, published_id=workflow.published_version_id))


class VersionDiffApi(APIView):
    @extend_schema(summary="Diff two versions (`draft` names the current draft)", responses=OpenApiTypes.OBJECT)
    def get(self, request, workflow_id, a, b):
        workflow = _workflow(request, workflow_id)

        def graph_of(ref: str) -> dict:
            if ref == "draft":
                return workflow.draft_graph
            return selectors.version_get(workflow=workflow, number=_version_number(ref)).graph

        diff = publish_services.graph_diff(graph_of(a), graph_of(b))
        return Response({"from": a if a == "draft" else int(a), "to": b if b == "draft" else int(b), **diff})


class VersionRestoreApi(APIView):
    @extend_schema(summary="Copy a version into the draft", request=None, responses=DraftOut)
    def post(self, request, workflow_id, number):
        workflow = _workflow(request, workflow_id, Role.EDITOR, light=True)
        version = selectors.version_get(workflow=workflow, number=number)
        return Response(
            draft_out(publish_services.version_restore(workflow=workflow, version=version, by=request.user))
        )


class VersionPublishApi(APIView):
    @extend_schema(
        summary="Make an existing version the published one (roll back or forward)", request=None, responses=WorkflowOut
    )
    def post(self, request, workflow_id, number):
        workflow = _workflow(request, workflow_id, Role.EDITOR, light=True)
        version = selectors.version_get(workflow=workflow, number=number)
        publish_services.version_make_published(workflow=workflow, version=version, by=request.user)
        return Response(workflow_out(_workflow(request, workflow_id)))


class ExportApi(APIView):
    @extend_schema(
        summary="Export the draft (or `?version=<n>`) as a JSON document",
        parameters=[VERSION_PARAM],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request, workflow_id):
        workflow = _workflow(request, workflow_id)
        version = None
        if request.query_params.get("version"):
            version = selectors.version_get(workflow=workflow, number=_version_number(request.query_params["version"]))
        document = workflow_export(workflow=workflow, version=version)
        filename = "".join(c if c.isalnum() or c in "-_" else "-" for c in workflow.name.lower())[:60] or "workflow"
        return Response(document, headers={"Content-Disposition": f'attachment; filename="{filename}.trellis.json"'})


class ImportApi(APIView):
    @extend_schema(
        summary="Import an exported workflow as a new workflow in the current workspace",
        request=OpenApiTypes.OBJECT,
        responses={201: WorkflowOut},
    )
    def post(self, request):
        _refuse_oversized(request)
        membership = current_workspace(request, Role.EDITOR)
        workflow = workflow_import(workspace=membership.workspace, by=request.user, document=request.data)
        issues = validate_graph(workflow.draft_graph, workspace_id=workflow.workspace_id)
        return Response({**workflow_out(_workflow(request, workflow.pk)), "issues": issues}, status=201)


class DuplicateApi(APIView):
    @extend_schema(summary="Copy a workflow's draft into a new workflow", request=NameIn, responses={201: WorkflowOut})
    def post(self, request, workflow_id):
        workflow = _workflow(request, workflow_id, Role.VIEWER)
        require_role(request, workflow.workspace_id, Role.EDITOR)
        data = request.data if isinstance(request.data, dict) else {}
        copy = workflow_services.workflow_duplicate(workflow=workflow, by=request.user, name=data.get("name"))
        return Response(workflow_out(_workflow(request, copy.pk)), status=201)


class AuditListApi(APIView):
    @extend_schema(summary="The audit trail of a workflow", responses=AuditOut(many=True))
    def get(self, request, workflow_id):
        workflow = _workflow(request, workflow_id)
        events = selectors.audit_list(workspace_id=workflow.workspace_id, target_type="workflow", target_id=workflow.pk)
        return Response(
            [
                {
                    "action": e.action,
                    "actor": e.actor.email if e.actor else None,
                    "data": e.data,
                    "created_at": e.created_at,
                }
                for e in events[:200]
            ]
        )
