"""Workflow endpoints: list/create, read/rename/archive/delete, draft, validate, import/export,
duplicate, audit trail."""

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.permissions import current_workspace, require_role
from builder import selectors
from builder.apis.common import (
    ARCHIVED_PARAM,
    PERMANENT_PARAM,
    QUERY_PARAM,
    VERSION_PARAM,
    body_size,
    draft_out,
    refuse_oversized,
    version_number,
    workflow_for,
    workflow_out,
)
from builder.apis.shapes import (
    AuditOut,
    DraftIn,
    DraftOut,
    ImportIn,
    ImportOut,
    IssueOut,
    NameIn,
    ValidateIn,
    WorkflowCreateIn,
    WorkflowOut,
    WorkflowPatchIn,
)
from builder.services import workflows as workflow_services
from builder.services.templates import template_get
from builder.services.transfer import workflow_export, workflow_import
from builder.services.validation import validate_graph
from trellis.bodies import body_dict, validated
from trellis.errors import ApplicationError

_ARCHIVED = {"true": True, "false": False, "all": None}


class WorkflowListApi(APIView):
    @extend_schema(
        summary="Workflows of the current workspace",
        parameters=[ARCHIVED_PARAM, QUERY_PARAM],
        responses=WorkflowOut(many=True),
    )
    def get(self, request):
        membership = current_workspace(request, Role.VIEWER)
        archived_param = request.query_params.get("archived", "false").lower()
        if archived_param not in _ARCHIVED:
            raise ApplicationError(
                "validation_error",
                "archived is one of false, true, all.",
                [{"field": "archived", "message": "One of false, true, all."}],
            )
        archived = _ARCHIVED[archived_param]
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
        refuse_oversized(request)
        membership = current_workspace(request, Role.EDITOR)
        data = body_dict(request)
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
        return Response(workflow_out(workflow_for(request, workflow.pk)), status=201)


class WorkflowDetailApi(APIView):
    @extend_schema(summary="A workflow", responses=WorkflowOut)
    def get(self, request, workflow_id):
        return Response(workflow_out(workflow_for(request, workflow_id)))

    @extend_schema(
        summary="Rename, describe, archive or unarchive; set the slug or expose it as an MCP tool",
        request=WorkflowPatchIn,
        responses=WorkflowOut,
    )
    def patch(self, request, workflow_id):
        workflow = workflow_for(request, workflow_id, Role.EDITOR, light=True)
        data = body_dict(request)
        unknown = sorted(set(data) - {"name", "description", "archived", "slug", "expose_as_tool"})
        if unknown:
            raise ApplicationError(
                "validation_error", f"Unknown field '{unknown[0]}'.", [{"field": unknown[0], "message": "Unknown."}]
            )
        archived = data.get("archived")
        if archived is not None and not isinstance(archived, bool):
            raise ApplicationError(
                "validation_error", "'archived' is a boolean.", [{"field": "archived", "message": "A boolean."}]
            )
        expose = data.get("expose_as_tool")
        if expose is not None and not isinstance(expose, bool):
            raise ApplicationError(
                "validation_error",
                "'expose_as_tool' is a boolean.",
                [{"field": "expose_as_tool", "message": "A boolean."}],
            )
        workflow_services.workflow_update(
            workflow=workflow,
            by=request.user,
            name=data.get("name"),
            description=data.get("description"),
            archived=archived,
            slug=data.get("slug"),
            expose_as_tool=expose,
        )
        return Response(workflow_out(workflow_for(request, workflow_id)))

    @extend_schema(
        summary="Archive (editors), or delete for good with ?permanent=true (admins)",
        parameters=[PERMANENT_PARAM],
        responses={204: None},
    )
    def delete(self, request, workflow_id):
        if request.query_params.get("permanent", "").lower() in ("1", "true", "yes"):
            workflow = workflow_for(request, workflow_id, Role.ADMIN)
            workflow_services.workflow_delete(workflow=workflow, by=request.user)
        else:
            workflow = workflow_for(request, workflow_id, Role.EDITOR, light=True)
            workflow_services.workflow_archive(workflow=workflow, by=request.user)
        return Response(status=204)


class DraftApi(APIView):
    @extend_schema(summary="The draft graph and its revision", responses=DraftOut)
    def get(self, request, workflow_id):
        return Response(draft_out(workflow_for(request, workflow_id)))

    @extend_schema(
        summary="Replace the draft (needs the current revision, else 409)", request=DraftIn, responses=DraftOut
    )
    def put(self, request, workflow_id):
        refuse_oversized(request)
        workflow = workflow_for(request, workflow_id, Role.EDITOR, light=True)
        data = body_dict(request)
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
            size=body_size(request),  # the graph is nearly all of the body: no need to re-encode it
        )
        return Response(draft_out(saved))


class ValidateApi(APIView):
    @extend_schema(
        summary="Validate the draft (or a graph sent in the body) and list its issues",
        request=ValidateIn,
        responses=IssueOut(many=True),
    )
    def post(self, request, workflow_id):
        # A graph sent in the body costs what its sender makes it cost: at most TRELLIS_VALIDATE_MAX_BYTES, and
        # only from editors. Viewers validate the saved draft (what the editor's issues panel shows).
        size = body_size(request)
        if size is None:  # no Content-Length (a chunked upload): the body is read (within Django's cap) and measured
            size = len(request.body)
        if size > settings.VALIDATE_MAX_BYTES:
            raise ApplicationError(
                "payload_too_large",
                f"The request is {size} bytes; validate takes at most {settings.VALIDATE_MAX_BYTES} "
                "(save the draft and validate it instead).",
                [{"limit": settings.VALIDATE_MAX_BYTES}],
                status=413,
            )
        data = body_dict(request)  # an empty body is {}: validate the draft
        workflow = workflow_for(request, workflow_id, Role.EDITOR if "graph" in data else Role.VIEWER)
        graph = data["graph"] if "graph" in data else workflow.draft_graph
        return Response(
            validate_graph(graph, workspace_id=workflow.workspace_id, timeout_s=settings.VALIDATE_TIMEOUT_S)
        )


class ExportApi(APIView):
    @extend_schema(
        summary="Export the draft (or `?version=<n>`) as a JSON document",
        parameters=[VERSION_PARAM],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request, workflow_id):
        workflow = workflow_for(request, workflow_id)
        version = None
        if request.query_params.get("version"):
            version = selectors.version_get(workflow=workflow, number=version_number(request.query_params["version"]))
        document = workflow_export(workflow=workflow, version=version)
        filename = "".join(c if c.isalnum() or c in "-_" else "-" for c in workflow.name.lower())[:60] or "workflow"
        return Response(document, headers={"Content-Disposition": f'attachment; filename="{filename}.trellis.json"'})


class ImportApi(APIView):
    @extend_schema(
        summary="Import an exported workflow as a new workflow in the current workspace",
        request=ImportIn,
        responses={201: ImportOut},
    )
    def post(self, request):
        refuse_oversized(request)
        membership = current_workspace(request, Role.EDITOR)
        workflow = workflow_import(workspace=membership.workspace, by=request.user, document=request.data)
        issues = validate_graph(workflow.draft_graph, workspace_id=workflow.workspace_id)
        return Response({**workflow_out(workflow_for(request, workflow.pk)), "issues": issues}, status=201)


class DuplicateApi(APIView):
    @extend_schema(summary="Copy a workflow's draft into a new workflow", request=NameIn, responses={201: WorkflowOut})
    def post(self, request, workflow_id):
        workflow = workflow_for(request, workflow_id, Role.VIEWER)
        require_role(request, workflow.workspace_id, Role.EDITOR)
        name = validated(NameIn, request).get("name")
        copy = workflow_services.workflow_duplicate(workflow=workflow, by=request.user, name=name)
        return Response(workflow_out(workflow_for(request, copy.pk)), status=201)


class AuditListApi(APIView):
    @extend_schema(summary="The audit trail of a workflow", responses=AuditOut(many=True))
    def get(self, request, workflow_id):
        workflow = workflow_for(request, workflow_id)
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
