"""REST API for accounts: me, workspaces, members, invitations, API tokens, secrets, the callback signing
secret and model providers.

Workspace-scoped lists act in the request's current workspace (the token's, the X-Trellis-Workspace header,
`?workspace=`, or the caller's oldest membership); objects of another workspace answer 404."""

from accounts.apis.credentials import (
    CallbackSecretApi,
    CallbackSecretRotateApi,
    ProviderDetailApi,
    ProviderListApi,
    ProviderTestApi,
    SecretDetailApi,
    SecretListApi,
    TokenDetailApi,
    TokenListApi,
)
from accounts.apis.mcp import McpServerDetailApi, McpServerListApi, McpServerToolsApi
from accounts.apis.workspaces import (
    InvitationDetailApi,
    InvitationListApi,
    MeApi,
    MemberDetailApi,
    MemberListApi,
    WorkspaceDetailApi,
    WorkspaceLeaveApi,
    WorkspaceListApi,
)

__all__ = [
    "CallbackSecretApi",
    "CallbackSecretRotateApi",
    "InvitationDetailApi",
    "InvitationListApi",
    "McpServerDetailApi",
    "McpServerListApi",
    "McpServerToolsApi",
    "MeApi",
    "MemberDetailApi",
    "MemberListApi",
    "ProviderDetailApi",
    "ProviderListApi",
    "ProviderTestApi",
    "SecretDetailApi",
    "SecretListApi",
    "TokenDetailApi",
    "TokenListApi",
    "WorkspaceDetailApi",
    "WorkspaceLeaveApi",
    "WorkspaceListApi",
]
