"""REST routes for accounts, mounted under /api/v1/."""

from django.urls import path

from accounts import apis

urlpatterns = [
    path("me", apis.MeApi.as_view(), name="me"),
    path("workspaces", apis.WorkspaceListApi.as_view(), name="workspace-list"),
    path("workspaces/<uuid:workspace_id>", apis.WorkspaceDetailApi.as_view(), name="workspace-detail"),
    path("workspaces/<uuid:workspace_id>/leave", apis.WorkspaceLeaveApi.as_view(), name="workspace-leave"),
    path("members", apis.MemberListApi.as_view(), name="member-list"),
    path("members/<int:member_id>", apis.MemberDetailApi.as_view(), name="member-detail"),
    path("invitations", apis.InvitationListApi.as_view(), name="invitation-list"),
    path("invitations/<uuid:invitation_id>", apis.InvitationDetailApi.as_view(), name="invitation-detail"),
    path("tokens", apis.TokenListApi.as_view(), name="token-list"),
    path("tokens/<uuid:token_id>", apis.TokenDetailApi.as_view(), name="token-detail"),
    path("secrets", apis.SecretListApi.as_view(), name="secret-list"),
    path("secrets/<uuid:secret_id>", apis.SecretDetailApi.as_view(), name="secret-detail"),
    path("workspace/callback-secret", apis.CallbackSecretApi.as_view(), name="callback-secret"),
    path("workspace/callback-secret/rotate", apis.CallbackSecretRotateApi.as_view(), name="callback-secret-rotate"),
    path("providers", apis.ProviderListApi.as_view(), name="provider-list"),
    path("providers/<int:provider_id>", apis.ProviderDetailApi.as_view(), name="provider-detail"),
    path("providers/<int:provider_id>/test", apis.ProviderTestApi.as_view(), name="provider-test"),
    path("mcp-servers", apis.McpServerListApi.as_view(), name="mcp-server-list"),
    path("mcp-servers/<uuid:server_id>", apis.McpServerDetailApi.as_view(), name="mcp-server-detail"),
    path("mcp-servers/<uuid:server_id>/tools", apis.McpServerToolsApi.as_view(), name="mcp-server-tools"),
]
