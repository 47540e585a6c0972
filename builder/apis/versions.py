"""Version endpoints: publish, list, detail, diff, restore into the draft, move the published pointer."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from builder import selectors
from builder.apis.common import draft_out, version_number, version_out, workflow_for, workflow_out
from builder.apis.shapes import DraftOut, PublishIn, VersionDetailOut, VersionOut, WorkflowOut
from builder.services import publish as publish_services
from trellis.bodies import validated


class PublishApi(APIView):
    @extend_schema(
        summary="Publish the draft as a new immutable version (422 with the issues while errors exist)",
        request=PublishIn,
        responses={201: VersionDetailOut},
    )
    def post(self, request, workflow_id):
        workflow = workflow_for(request, workflow_id, Role.EDITOR, light=True)
        data = validated(PublishIn, request)
        version = publish_services.workflow_publish(workflow=workflow, by=request.user, note=data.get("note") or "")
        return Response(version_out(version, with_graph=True, published_id=version.pk), status=201)


class VersionListApi(APIView):
    @extend_schema(summary="Published versions, newest first", responses=VersionOut(many=True))
    def get(self, request, workflow_id):
        workflow = workflow_for(request, workflow_id)
        return Response(
            [
                version_out(v, published_id=workflow.published_version_id)
                for v in selectors.version_list(workflow=workflow)
            ]
        )


class VersionDetailApi(APIView):
    @extend_schema(summary="One version with its graph", responses=VersionDetailOut)
    def get(self, request, workflow_id, number):
        workflow = workflow_for(request, workflow_id)
        version = selectors.version_get(workflow=workflow, number=number)
        return Response(version_out(version, with_graph=True, published_id=workflow.published_version_id))


class VersionDiffApi(APIView):
    @extend_schema(summary="Diff two versions (`draft` names the current draft)", responses=OpenApiTypes.OBJECT)
    def get(self, request, workflow_id, a, b):
        workflow = workflow_for(request, workflow_id)

        def graph_of(ref: str) -> dict:
            if ref == "draft":
                return workflow.draft_graph
            return selectors.version_get(workflow=workflow, number=version_number(ref)).graph

        diff = publish_services.graph_diff(graph_of(a), graph_of(b))
        return Response({"from": a if a == "draft" else int(a), "to": b if b == "draft" else int(b), **diff})


class VersionRestoreApi(APIView):
    @extend_schema(summary="Copy a version into the draft", request=None, responses=DraftOut)
    def post(self, request, workflow_id, number):
        workflow = workflow_for(request, workflow_id, Role.EDITOR, light=True)
        version = selectors.version_get(workflow=workflow, number=number)
        return Response(
            draft_out(publish_services.version_restore(workflow=workflow, version=version, by=request.user))
        )


class VersionPublishApi(APIView):
    @extend_schema(
        summary="Make an existing version the published one (roll back or forward)", request=None, responses=WorkflowOut
    )
    def post(self, request, workflow_id, number):
        workflow = workflow_for(request, workflow_id, Role.EDITOR, light=True)
        version = selectors.version_get(workflow=workflow, number=number)
        publish_services.version_make_published(workflow=workflow, version=version, by=request.user)
        return Response(workflow_out(workflow_for(request, workflow_id)))
