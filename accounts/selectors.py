"""Reads for accounts. Every list is already scoped to one workspace the caller was checked against."""

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import (
    ApiToken,
    CallbackSigningSecret,
    Invitation,
    McpServer,
    Membership,
    ModelProvider,
    Secret,
    User,
    Workspace,
)


def user_memberships(*, user: User, workspace_ids=None) -> QuerySet[Membership]:
    qs = Membership.objects.select_related("workspace").filter(user=user).order_by("created_at")
    if workspace_ids is not None:
        qs = qs.filter(workspace_id__in=workspace_ids)
    return qs


def member_list(*, workspace: Workspace) -> QuerySet[Membership]:
    return Membership.objects.select_related("user").filter(workspace=workspace).order_by("created_at")


def invitation_list(*, workspace: Workspace) -> QuerySet[Invitation]:
    """Pending invitations: not accepted, not revoked, not expired."""
    return (
        Invitation.objects.select_related("invited_by")
        .filter(workspace=workspace, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .order_by("-created_at")
    )


def api_token_list(*, workspace: Workspace, user: User | None = None) -> QuerySet[ApiToken]:
    """Active tokens of the workspace; only `user`'s own when given."""
    qs = ApiToken.objects.select_related("user").filter(workspace=workspace, revoked_at__isnull=True)
    if user is not None:
        qs = qs.filter(user=user)
    return qs.order_by("-created_at")


def secret_list(*, workspace: Workspace) -> QuerySet[Secret]:
    return Secret.objects.filter(workspace=workspace).defer("ciphertext").order_by("name")


def provider_list(*, workspace: Workspace) -> QuerySet[ModelProvider]:
    return ModelProvider.objects.filter(workspace=workspace).order_by("-is_default", "name")


def provider_default(*, workspace_id) -> ModelProvider | None:
    """The provider an agent node uses when it names none."""
    return ModelProvider.objects.filter(workspace_id=workspace_id).order_by("-is_default", "created_at").first()


def provider_by_name(*, workspace_id, name: str) -> ModelProvider | None:
    return ModelProvider.objects.filter(workspace_id=workspace_id, name=name).first()


def callback_secret_info(*, workspace: Workspace) -> dict:
    """When the callback signing secret was made and rotated; never the secret itself."""
    row = (
        CallbackSigningSecret.objects.filter(workspace=workspace)
        .defer("secret_ciphertext", "previous_secret_ciphertext")
        .first()
    )
    now = timezone.now()
    previous_until = row.previous_secret_expires_at if row is not None else None
    return {
        "exists": row is not None,
        "created_at": row.created_at if row is not None else None,
        "rotated_at": row.rotated_at if row is not None else None,
        "previous_secret_expires_at": previous_until if previous_until and previous_until > now else None,
    }


def mcp_server_list(*, workspace: Workspace) -> QuerySet[McpServer]:
    return McpServer.objects.filter(workspace=workspace).order_by("name")


def mcp_server_by_name(*, workspace_id, name: str) -> McpServer | None:
    return McpServer.objects.filter(workspace_id=workspace_id, name=name).first()
