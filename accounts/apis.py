"""REST API for accounts: me, workspaces, members, invitations, API tokens, secrets and model providers.

Workspace-scoped lists act in the request's current workspace (the token's, the X-Trellis-Workspace header,
`?workspace=`, or the caller's oldest membership); objects of another workspace answer 404."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import providers as provider_services
from accounts import selectors, services
from accounts.models import (
    ApiStyle,
    ApiToken,
    Invitation,
    Membership,
    ModelProvider,
    Role,
    Secret,
    role_at_least,
)
from accounts.permissions import current_workspace, get_in_workspace, require_role, visible_workspaces
from trellis.errors import ApplicationError

WORKSPACE_PARAM = OpenApiParameter(
    "X-Trellis-Workspace",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Workspace slug or id to act in (defaults to the token's, else your oldest workspace).",
)


def _no_tokens(request, what: str) -> None:
    if isinstance(getattr(request, "auth", None), ApiToken):
        raise ApplicationError(
            "permission_denied", f"API tokens are scoped to one workspace and cannot {what}.", status=403
        )


# --- Output serializers --------------------------------------------------------------------------


class WorkspaceOut(serializers.Serializer):
    id = serializers.UUIDField()
    slug = serializers.CharField()
    name = serializers.CharField()
    role = serializers.CharField()
    created_at = serializers.DateTimeField()


def _workspace_out(membership: Membership) -> dict:
    ws = membership.workspace
    return {"id": ws.pk, "slug": ws.slug, "name": ws.name, "role": membership.role, "created_at": ws.created_at}


class MeOut(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()
    workspaces = inline_serializer(
        "MeWorkspace",
        {
            "id": serializers.UUIDField(),
            "slug": serializers.CharField(),
            "name": serializers.CharField(),
            "role": serializers.CharField(),
        },
        many=True,
    )


class MemberOut(serializers.ModelSerializer):
    user_id = serializers.IntegerField(source="user.id")
    email = serializers.EmailField(source="user.email")
    name = serializers.CharField(source="user.name")
    joined_at = serializers.DateTimeField(source="created_at")

    class Meta:
        model = Membership
        fields = ["id", "user_id", "email", "name", "role", "joined_at"]


class InvitationOut(serializers.ModelSerializer):
    invited_by = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "invited_by", "created_at", "expires_at"]

    def get_invited_by(self, obj) -> str | None:
        return obj.invited_by.email if obj.invited_by else None


class TokenOut(serializers.ModelSerializer):
    user_email = serializers.EmailField(source="user.email")

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "user_email", "created_at", "last_used_at"]


class SecretOut(serializers.ModelSerializer):
    class Meta:
        model = Secret
        fields = ["id", "name", "created_at", "updated_at"]


class ProviderOut(serializers.ModelSerializer):
    has_api_key = serializers.SerializerMethodField()

    class Meta:
        model = ModelProvider
        fields = [
            "id",
            "name",
            "base_url",
            "api_style",
            "api_key_secret",
            "has_api_key",
            "models",
            "is_default",
            "created_at",
        ]

    def get_has_api_key(self, obj) -> bool:
        if obj.api_key_secret:
            return Secret.objects.filter(workspace_id=obj.workspace_id, name=obj.api_key_secret).exists()
        return False


# --- Me ---------------------------------------------------------------------------------------


class MeApi(APIView):
    @extend_schema(responses=MeOut, summary="The signed-in user and the workspaces they can act in")
    def get(self, request):
        memberships = selectors.user_memberships(
            user=request.user, workspace_ids=visible_workspaces(request).values("pk")
        )
        return Response(
            {
                "id": request.user.pk,
                "email": request.user.email,
                "name": request.user.name,
                "workspaces": [
                    {"id": m.workspace.pk, "slug": m.workspace.slug, "name": m.workspace.name, "role": m.role}
                    for m in memberships
                ],
            }
        )


# --- Workspaces -------------------------------------------------------------------------------


class WorkspaceIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    slug = serializers.SlugField(max_length=60, required=False)


class WorkspaceListApi(APIView):
    @extend_schema(responses=WorkspaceOut(many=True), summary="Workspaces you belong to")
    def get(self, request):
        memberships = selectors.user_memberships(
            user=request.user, workspace_ids=visible_workspaces(request).values("pk")
        )
        return Response(WorkspaceOut([_workspace_out(m) for m in memberships], many=True).data)

    @extend_schema(request=WorkspaceIn, responses={201: WorkspaceOut}, summary="Create a workspace (you own it)")
    def post(self, request):
        _no_tokens(request, "create workspaces")
        data = _valid(WorkspaceIn, request.data)
        workspace = services.workspace_create(name=data["name"], slug=data.get("slug"), owner=request.user)
        membership = workspace.memberships.get(user=request.user)
        return Response(WorkspaceOut(_workspace_out(membership)).data, status=status.HTTP_201_CREATED)


class WorkspaceRenameIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class WorkspaceDetailApi(APIView):
    @extend_schema(responses=WorkspaceOut)
    def get(self, request, workspace_id):
        membership = require_role(request, workspace_id, Role.VIEWER)
        return Response(WorkspaceOut(_workspace_out(membership)).data)

    @extend_schema(request=WorkspaceRenameIn, responses=WorkspaceOut, summary="Rename (admin)")
    def patch(self, request, workspace_id):
        membership = require_role(request, workspace_id, Role.ADMIN)
        data = _valid(WorkspaceRenameIn, request.data)
        services.workspace_rename(workspace=membership.workspace, name=data["name"])
        return Response(WorkspaceOut(_workspace_out(membership)).data)

    @extend_schema(responses={204: None}, summary="Delete the workspace and everything in it (owner)")
    def delete(self, request, workspace_id):
        membership = require_role(request, workspace_id, Role.OWNER)
        services.workspace_delete(workspace=membership.workspace)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WorkspaceLeaveApi(APIView):
    @extend_schema(request=None, responses={204: None}, summary="Leave the workspace")
    def post(self, request, workspace_id):
        membership = require_role(request, workspace_id, Role.VIEWER)
        services.membership_remove(membership=membership, by=membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Members ----------------------------------------------------------------------------------


class MemberRoleIn(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


@extend_schema(parameters=[WORKSPACE_PARAM])
class MemberListApi(APIView):
    @extend_schema(responses=MemberOut(many=True), summary="Members of the current workspace")
    def get(self, request):
        membership = current_workspace(request, Role.VIEWER)
        return Response(MemberOut(selectors.member_list(workspace=membership.workspace), many=True).data)


class MemberDetailApi(APIView):
    def _target_and_caller(self, request, member_id) -> tuple[Membership, Membership]:
        target = get_in_workspace(request, Membership.objects.select_related("user"), Role.VIEWER, pk=member_id)
        return target, require_role(request, target.workspace_id, Role.VIEWER)

    @extend_schema(responses=MemberOut)
    def get(self, request, member_id):
        target, _ = self._target_and_caller(request, member_id)
        return Response(MemberOut(target).data)

    @extend_schema(request=MemberRoleIn, responses=MemberOut, summary="Change a member's role (admin; owners: owner)")
    def patch(self, request, member_id):
        target, caller = self._target_and_caller(request, member_id)
        data = _valid(MemberRoleIn, request.data)
        services.membership_role_change(membership=target, role=data["role"], by=caller)
        return Response(MemberOut(target).data)

    @extend_schema(responses={204: None}, summary="Remove a member (admin), or yourself (leave)")
    def delete(self, request, member_id):
        target, caller = self._target_and_caller(request, member_id)
        services.membership_remove(membership=target, by=caller)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Invitations ------------------------------------------------------------------------------


class InvitationIn(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices, default=Role.VIEWER)


class InvitationCreatedOut(InvitationOut):
    link = serializers.CharField()

    class Meta(InvitationOut.Meta):
        fields = [*InvitationOut.Meta.fields, "link"]


@extend_schema(parameters=[WORKSPACE_PARAM])
class InvitationListApi(APIView):
    @extend_schema(responses=InvitationOut(many=True), summary="Pending invitations (admin)")
    def get(self, request):
        membership = current_workspace(request, Role.ADMIN)
        return Response(InvitationOut(selectors.invitation_list(workspace=membership.workspace), many=True).data)

    @extend_schema(
        request=InvitationIn,
        responses={201: InvitationCreatedOut},
        summary="Invite someone by link (admin); the link is returned only here",
    )
    def post(self, request):
        membership = current_workspace(request, Role.ADMIN)
        data = _valid(InvitationIn, request.data)
        invitation, raw = services.invitation_create(
            workspace=membership.workspace, email=data["email"], role=data["role"], by=membership
        )
        body = InvitationOut(invitation).data
        body["link"] = services.invitation_link(raw)
        return Response(body, status=status.HTTP_201_CREATED)


class InvitationDetailApi(APIView):
    @extend_schema(responses={204: None}, summary="Revoke an invitation (admin)")
    def delete(self, request, invitation_id):
        invitation = get_in_workspace(request, Invitation.objects.all(), Role.ADMIN, pk=invitation_id)
        services.invitation_revoke(invitation=invitation)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- API tokens -------------------------------------------------------------------------------


class TokenIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class TokenCreatedOut(TokenOut):
    token = serializers.CharField()

    class Meta(TokenOut.Meta):
        fields = [*TokenOut.Meta.fields, "token"]


@extend_schema(parameters=[WORKSPACE_PARAM])
class TokenListApi(APIView):
    @extend_schema(
        responses=TokenOut(many=True),
        summary="Active API tokens: your own, or every member's for admins",
    )
    def get(self, request):
        membership = current_workspace(request, Role.VIEWER)
        only = None if role_at_least(membership.role, Role.ADMIN) else request.user
        return Response(TokenOut(selectors.api_token_list(workspace=membership.workspace, user=only), many=True).data)

    @extend_schema(
        request=TokenIn,
        responses={201: TokenCreatedOut},
        summary="Create an API token acting as you in this workspace; the token is returned only here",
    )
    def post(self, request):
        membership = current_workspace(request, Role.VIEWER)
        data = _valid(TokenIn, request.data)
        token, raw = services.api_token_create(workspace=membership.workspace, user=request.user, name=data["name"])
        body = TokenOut(token).data
        body["token"] = raw
        return Response(body, status=status.HTTP_201_CREATED)


class TokenDetailApi(APIView):
    @extend_schema(responses={204: None}, summary="Revoke a token (yours, or any as admin)")
    def delete(self, request, token_id):
        token = get_in_workspace(request, ApiToken.objects.filter(revoked_at__isnull=True), Role.VIEWER, pk=token_id)
        if token.user_id != request.user.pk:
            require_role(request, token.workspace_id, Role.ADMIN)
        services.api_token_revoke(token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Secrets ----------------------------------------------------------------------------------


class SecretIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    value = serializers.CharField(write_only=True, trim_whitespace=False)


class SecretValueIn(serializers.Serializer):
    value = serializers.CharField(write_only=True, trim_whitespace=False)


@extend_schema(parameters=[WORKSPACE_PARAM])
class SecretListApi(APIView):
    @extend_schema(responses=SecretOut(many=True), summary="Secret names (editor); values are never returned")
    def get(self, request):
        membership = current_workspace(request, Role.EDITOR)
        return Response(SecretOut(selectors.secret_list(workspace=membership.workspace), many=True).data)

    @extend_schema(request=SecretIn, responses={201: SecretOut}, summary="Create a secret (admin)")
    def post(self, request):
        membership = current_workspace(request, Role.ADMIN)
        data = _valid(SecretIn, request.data)
        secret = services.secret_create(
            workspace=membership.workspace, name=data["name"], value=data["value"], by=request.user
        )
        return Response(SecretOut(secret).data, status=status.HTTP_201_CREATED)


class SecretDetailApi(APIView):
    @extend_schema(responses=SecretOut)
    def get(self, request, secret_id):
        secret = get_in_workspace(request, Secret.objects.defer("ciphertext"), Role.EDITOR, pk=secret_id)
        return Response(SecretOut(secret).data)

    @extend_schema(request=SecretValueIn, responses=SecretOut, summary="Replace a secret's value (admin)")
    def put(self, request, secret_id):
        secret = get_in_workspace(request, Secret.objects.all(), Role.ADMIN, pk=secret_id)
        data = _valid(SecretValueIn, request.data)
        services.secret_update(secret=secret, value=data["value"], by=request.user)
        return Response(SecretOut(secret).data)

    patch = put

    @extend_schema(responses={204: None}, summary="Delete a secret (admin)")
    def delete(self, request, secret_id):
        secret = get_in_workspace(request, Secret.objects.all(), Role.ADMIN, pk=secret_id)
        services.secret_delete(secret=secret)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Model providers --------------------------------------------------------------------------


class ProviderIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    base_url = serializers.CharField(max_length=500, required=False, allow_blank=True)
    api_style = serializers.ChoiceField(choices=ApiStyle.choices, required=False)
    models = serializers.ListField(child=serializers.CharField(max_length=200), required=False, max_length=500)
    api_key = serializers.CharField(required=False, allow_blank=True, write_only=True, trim_whitespace=True)
    api_key_secret = serializers.CharField(max_length=100, required=False, allow_blank=True)
    is_default = serializers.BooleanField(required=False)


class ProviderPatchIn(ProviderIn):
    name = serializers.CharField(max_length=100, required=False)


class ProviderTestOut(serializers.Serializer):
    ok = serializers.BooleanField()
    message = serializers.CharField()
    models = serializers.ListField(child=serializers.CharField())


@extend_schema(parameters=[WORKSPACE_PARAM])
class ProviderListApi(APIView):
    @extend_schema(responses=ProviderOut(many=True), summary="Model providers of the current workspace")
    def get(self, request):
        membership = current_workspace(request, Role.VIEWER)
        return Response(ProviderOut(selectors.provider_list(workspace=membership.workspace), many=True).data)

    @extend_schema(
        request=ProviderIn,
        responses={201: ProviderOut},
        summary="Add a provider (admin); `api_key` is stored as the secret provider:<id>",
    )
    def post(self, request):
        membership = current_workspace(request, Role.ADMIN)
        data = _valid(ProviderIn, request.data)
        provider = provider_services.provider_create(workspace=membership.workspace, by=request.user, **data)
        return Response(ProviderOut(provider).data, status=status.HTTP_201_CREATED)


class ProviderDetailApi(APIView):
    @extend_schema(responses=ProviderOut)
    def get(self, request, provider_id):
        provider = get_in_workspace(request, ModelProvider.objects.all(), Role.VIEWER, pk=provider_id)
        return Response(ProviderOut(provider).data)

    @extend_schema(request=ProviderPatchIn, responses=ProviderOut, summary="Change a provider (admin)")
    def patch(self, request, provider_id):
        provider = get_in_workspace(request, ModelProvider.objects.all(), Role.ADMIN, pk=provider_id)
        data = _valid(ProviderPatchIn, request.data, partial=True)
        provider_services.provider_update(provider=provider, by=request.user, **data)
        return Response(ProviderOut(provider).data)

    @extend_schema(responses={204: None}, summary="Delete a provider and its stored key (admin)")
    def delete(self, request, provider_id):
        provider = get_in_workspace(request, ModelProvider.objects.all(), Role.ADMIN, pk=provider_id)
        provider_services.provider_delete(provider=provider)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProviderTestApi(APIView):
    @extend_schema(request=None, responses=ProviderTestOut, summary="Test the connection by listing models (admin)")
    def post(self, request, provider_id):
        provider = get_in_workspace(request, ModelProvider.objects.all(), Role.ADMIN, pk=provider_id)
        return Response(provider_services.provider_test(provider=provider))


def _valid(serializer_class, data, *, partial: bool = False) -> dict:
    if not isinstance(data, dict):
        raise ApplicationError("validation_error", "The request body must be a JSON object.")
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
