"""Helpers shared by the accounts API views."""

from drf_spectacular.utils import OpenApiParameter

from accounts.models import ApiToken
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


def validated(serializer_class, data, *, partial: bool = False) -> dict:
    if not isinstance(data, dict):
        raise ApplicationError("validation_error", "The request body must be a JSON object.")
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
