"""REST API for the builder: node catalog, workflows, drafts, validation, versions, templates."""

from rest_framework.response import Response
from rest_framework.views import APIView

from builder.catalog import node_type_list


class NodeTypeListApi(APIView):
    def get(self, request):
        return Response(node_type_list())
