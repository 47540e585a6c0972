"""Helpers shared by the accounts API views."""

from django.db.models import Model
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiToken, Role
from accounts.permissions import get_in_workspace
from trellis.bodies import validated
from trellis.errors import ApplicationError

WORKSPACE_PARAM = OpenApiParameter(
    "X-Trellis-Workspace",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Workspace slug or id to act in (defaults to the token's, else your oldest workspace).",
)


def refuse_tokens(request, what: str) -> None:
    if isinstance(getattr(request, "auth", None), ApiToken):
        raise ApplicationError(
            "permission_denied", f"API tokens are scoped to one workspace and cannot {what}.", status=403
        )


# GET, PATCH and DELETE of one object of a workspace: viewers read, admins change and delete. A subclass names
# the model, the URL's id argument, its serializers and its service calls (`change`, `remove`), and documents its
# methods with extend_schema_view. (A comment, not a docstring: drf-spectacular would publish a docstring as every
# operation's description.)
class WorkspaceObjectApi(APIView):
    model: type[Model]
    id_kwarg: str
    out: type[serializers.Serializer]
    patch_in: type[serializers.Serializer]

    def change(self, request, obj, data: dict) -> None:
        raise NotImplementedError

    def remove(self, obj) -> None:
        raise NotImplementedError

    def find(self, request, role: str, kwargs: dict):
        return get_in_workspace(request, self.model.objects.all(), role, pk=kwargs[self.id_kwarg])

    def get(self, request, **kwargs):
        return Response(self.out(self.find(request, Role.VIEWER, kwargs)).data)

    def patch(self, request, **kwargs):
        obj = self.find(request, Role.ADMIN, kwargs)
        self.change(request, obj, validated(self.patch_in, request, partial=True))
        return Response(self.out(obj).data)

    def delete(self, request, **kwargs):
        self.remove(self.find(request, Role.ADMIN, kwargs))
        return Response(status=status.HTTP_204_NO_CONTENT)
