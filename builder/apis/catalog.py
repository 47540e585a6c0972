"""Read-only catalog endpoints: node types and workflow templates."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from builder.apis.shapes import NodeTypeOut, TemplateOut
from builder.catalog import node_type_list
from builder.services.templates import TEMPLATES


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
