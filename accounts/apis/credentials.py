"""REST API: API tokens, secrets (write-only values), the callback signing secret and model providers."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import providers as provider_services
from accounts import selectors, services
from accounts.apis.common import WORKSPACE_PARAM, WorkspaceObjectApi
from accounts.apis.serializers import CallbackSecretOut, ProviderOut, SecretOut, TokenOut
from accounts.models import ApiStyle, ApiToken, ModelProvider, Role, Secret, role_at_least
from accounts.permissions import current_workspace, get_in_workspace, require_role
from trellis.bodies import validated
from trellis.fields import StrictCharField


class TokenIn(serializers.Serializer):
    name = StrictCharField(max_length=100)


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
        data = validated(TokenIn, request)
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
    name = StrictCharField(max_length=100)
    value = StrictCharField(write_only=True, trim_whitespace=False)


class SecretValueIn(serializers.Serializer):
    value = StrictCharField(write_only=True, trim_whitespace=False)


@extend_schema(parameters=[WORKSPACE_PARAM])
class SecretListApi(APIView):
    @extend_schema(responses=SecretOut(many=True), summary="Secret names (editor); values are never returned")
    def get(self, request):
        membership = current_workspace(request, Role.EDITOR)
        return Response(SecretOut(selectors.secret_list(workspace=membership.workspace), many=True).data)

    @extend_schema(request=SecretIn, responses={201: SecretOut}, summary="Create a secret (admin)")
    def post(self, request):
        membership = current_workspace(request, Role.ADMIN)
        data = validated(SecretIn, request)
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
        data = validated(SecretValueIn, request)
        services.secret_update(secret=secret, value=data["value"], by=request.user)
        return Response(SecretOut(secret).data)

    patch = put

    @extend_schema(responses={204: None}, summary="Delete a secret (admin)")
    def delete(self, request, secret_id):
        secret = get_in_workspace(request, Secret.objects.all(), Role.ADMIN, pk=secret_id)
        services.secret_delete(secret=secret)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Callback signing secret ------------------------------------------------------------------


class CallbackSecretRotatedOut(CallbackSecretOut):
    secret = serializers.CharField(help_text="`whsec_…`; returned only by this call")


@extend_schema(parameters=[WORKSPACE_PARAM])
class CallbackSecretApi(APIView):
    @extend_schema(
        responses=CallbackSecretOut,
        summary="Whether the workspace has a callback signing secret, and when it was rotated (editor)",
    )
    def get(self, request):
        membership = current_workspace(request, Role.EDITOR)
        return Response(CallbackSecretOut(selectors.callback_secret_info(workspace=membership.workspace)).data)


@extend_schema(parameters=[WORKSPACE_PARAM])
class CallbackSecretRotateApi(APIView):
    @extend_schema(
        request=None,
        responses=CallbackSecretRotatedOut,
        summary="Create or rotate the secret that signs callbacks of API-started runs (admin); returned only here",
        description=(
            "Runs started with a `callback_url` POST their result there, signed with Standard Webhooks "
            "(`webhook-id`, `webhook-timestamp`, `webhook-signature`) using this secret. After a rotation the "
            "previous secret adds a second signature until `previous_secret_expires_at` "
            "(TRELLIS_WEBHOOK_SECRET_GRACE_S), so receivers can switch over."
        ),
    )
    def post(self, request):
        membership = current_workspace(request, Role.ADMIN)
        _, raw = services.callback_secret_rotate(workspace=membership.workspace, by=request.user)
        body = dict(CallbackSecretOut(selectors.callback_secret_info(workspace=membership.workspace)).data)
        body["secret"] = raw
        return Response(body)


# --- Model providers --------------------------------------------------------------------------


class ProviderIn(serializers.Serializer):
    name = StrictCharField(max_length=100)
    base_url = StrictCharField(max_length=500, required=False, allow_blank=True)
    api_style = serializers.ChoiceField(choices=ApiStyle.choices, required=False)
    models = serializers.ListField(child=StrictCharField(max_length=200), required=False, max_length=500)
    api_key = StrictCharField(required=False, allow_blank=True, write_only=True, trim_whitespace=True)
    api_key_secret = StrictCharField(max_length=100, required=False, allow_blank=True)
    is_default = serializers.BooleanField(required=False)


class ProviderPatchIn(ProviderIn):
    name = StrictCharField(max_length=100, required=False)


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
        data = validated(ProviderIn, request)
        provider = provider_services.provider_create(workspace=membership.workspace, by=request.user, **data)
        return Response(ProviderOut(provider).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(responses=ProviderOut),
    patch=extend_schema(request=ProviderPatchIn, responses=ProviderOut, summary="Change a provider (admin)"),
    delete=extend_schema(responses={204: None}, summary="Delete a provider and its stored key (admin)"),
)
class ProviderDetailApi(WorkspaceObjectApi):
    model, id_kwarg, out, patch_in = ModelProvider, "provider_id", ProviderOut, ProviderPatchIn

    def change(self, request, obj, data: dict) -> None:
        provider_services.provider_update(provider=obj, by=request.user, **data)

    def remove(self, obj) -> None:
        provider_services.provider_delete(provider=obj)


class ProviderTestApi(APIView):
    @extend_schema(request=None, responses=ProviderTestOut, summary="Test the connection by listing models (admin)")
    def post(self, request, provider_id):
        provider = get_in_workspace(request, ModelProvider.objects.all(), Role.ADMIN, pk=provider_id)
        return Response(provider_services.provider_test(provider=provider))
