"""REST API for workspace MCP servers: viewers read, admins write, editors fetch tools (they build with them).

Header values are secret references; no response holds a secret's value."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import mcp_servers as services
from accounts import selectors
from accounts.apis.common import WORKSPACE_PARAM, WorkspaceObjectApi
from accounts.models import McpServer, Role
from accounts.permissions import current_workspace, get_in_workspace
from trellis.bodies import validated


class McpToolOut(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    input_schema = serializers.JSONField()


class McpServerOut(serializers.ModelSerializer):
    headers = serializers.JSONField(help_text='{"Header": {"secret": "NAME"}}: secret references, never values')
    allowed_tools = serializers.ListField(child=serializers.CharField(), allow_null=True)
    tools = McpToolOut(many=True, allow_null=True, help_text="the allowed tools as last fetched; null before")

    class Meta:
        model = McpServer
        fields = [
            "id",
            "name",
            "url",
            "headers",
            "allowed_tools",
            "tools",
            "tools_fetched_at",
            "created_at",
            "updated_at",
        ]


class McpServerIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    url = serializers.CharField(max_length=2000)
    headers = serializers.JSONField(required=False)
    allowed_tools = serializers.JSONField(required=False, allow_null=True)


class McpServerPatchIn(McpServerIn):
    name = serializers.CharField(max_length=100, required=False)
    url = serializers.CharField(max_length=2000, required=False)


@extend_schema(parameters=[WORKSPACE_PARAM])
class McpServerListApi(APIView):
    @extend_schema(responses=McpServerOut(many=True), summary="MCP servers of the current workspace")
    def get(self, request):
        membership = current_workspace(request, Role.VIEWER)
        return Response(McpServerOut(selectors.mcp_server_list(workspace=membership.workspace), many=True).data)

    @extend_schema(request=McpServerIn, responses={201: McpServerOut}, summary="Add an MCP server (admin)")
    def post(self, request):
        membership = current_workspace(request, Role.ADMIN)
        data = validated(McpServerIn, request)
        server = services.mcp_server_create(workspace=membership.workspace, **data)
        return Response(McpServerOut(server).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(responses=McpServerOut),
    patch=extend_schema(request=McpServerPatchIn, responses=McpServerOut, summary="Change an MCP server (admin)"),
    delete=extend_schema(responses={204: None}, summary="Delete an MCP server (admin)"),
)
class McpServerDetailApi(WorkspaceObjectApi):
    model, id_kwarg, out, patch_in = McpServer, "server_id", McpServerOut, McpServerPatchIn

    def change(self, request, obj, data: dict) -> None:
        services.mcp_server_update(server=obj, **data)

    def remove(self, obj) -> None:
        services.mcp_server_delete(server=obj)


class McpServerToolsApi(APIView):
    @extend_schema(
        request=None,
        responses=McpToolOut(many=True),
        summary="Fetch the server's tools (editor): lists them over MCP and caches the allowed ones",
    )
    def post(self, request, server_id):
        server = get_in_workspace(request, McpServer.objects.all(), Role.EDITOR, pk=server_id)
        return Response(McpToolOut(services.mcp_server_fetch_tools(server=server), many=True).data)
