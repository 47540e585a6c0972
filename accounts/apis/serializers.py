"""Output serializers of the accounts API. None of them has a field for a secret value or an API key."""

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from accounts.models import ApiToken, Invitation, Membership, ModelProvider, Secret


class WorkspaceOut(serializers.Serializer):
    id = serializers.UUIDField()
    slug = serializers.CharField()
    name = serializers.CharField()
    role = serializers.CharField()
    time_zone = serializers.CharField(help_text="IANA time zone; budget windows begin at midnight here")
    created_at = serializers.DateTimeField()


def workspace_out(membership: Membership) -> dict:
    ws = membership.workspace
    return {
        "id": ws.pk,
        "slug": ws.slug,
        "name": ws.name,
        "role": membership.role,
        "time_zone": ws.time_zone,
        "created_at": ws.created_at,
    }


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


class CallbackSecretOut(serializers.Serializer):
    exists = serializers.BooleanField(help_text="false until an admin rotates it or a first callback needs it")
    created_at = serializers.DateTimeField(allow_null=True)
    rotated_at = serializers.DateTimeField(allow_null=True)
    previous_secret_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="until then callbacks also carry a signature made with the previous secret"
    )
