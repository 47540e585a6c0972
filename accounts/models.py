"""Users, workspaces, memberships with roles, invitations, API tokens and encrypted secrets."""

import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra):
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    def __str__(self) -> str:
        return self.email


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    EDITOR = "editor", "Editor"
    ADMIN = "admin", "Admin"
    OWNER = "owner", "Owner"


# Higher rank includes every right of a lower one.
ROLE_RANK = {Role.VIEWER: 10, Role.EDITOR: 20, Role.ADMIN: 30, Role.OWNER: 40}


def role_at_least(role: str, minimum: str) -> bool:
    return ROLE_RANK[Role(role)] >= ROLE_RANK[Role(minimum)]


class Workspace(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True)
    # IANA name; budget windows (calendar day and month) begin at midnight here.
    time_zone = models.CharField(max_length=64, default="UTC")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.slug


class Membership(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "user"], name="one_membership_per_user")]


class Invitation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices)
    # Only the hash of the link's token is stored; the link is shown once to the inviter.
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)


class ApiToken(models.Model):
    """A `trl_` bearer token: workspace-scoped, acting as its user with that user's role there."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="api_tokens")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)  # first characters, to recognise a token in lists
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)


class Secret(models.Model):
    """A named credential, encrypted at rest; its value is never returned by any API."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="secrets")
    name = models.CharField(max_length=100)
    ciphertext = models.BinaryField()
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="unique_secret_name")]


class ApiStyle(models.TextChoices):
    RESPONSES = "responses", "Responses API"
    CHAT_COMPLETIONS = "chat_completions", "Chat Completions API"


class ModelProvider(models.Model):
    """An OpenAI-compatible endpoint a workspace's agent nodes can call.

    The API key lives in a workspace Secret named by `api_key_secret`; this row never holds it."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="model_providers")
    name = models.CharField(max_length=100)
    base_url = models.URLField(max_length=500, blank=True)  # blank = OpenAI's own endpoint
    api_style = models.CharField(max_length=20, choices=ApiStyle.choices, default=ApiStyle.RESPONSES)
    api_key_secret = models.CharField(max_length=100, blank=True)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Declared last: from here on, `models` in this class body is the field, not django.db.models.
    models = models.JSONField(default=list, blank=True)  # model names offered for this provider

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="unique_provider_name"),
            models.UniqueConstraint(
                fields=["workspace"], condition=models.Q(is_default=True), name="one_default_provider"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CallbackSigningSecret(models.Model):
    """The workspace's `whsec_` secret that signs callbacks of API-started runs (Standard Webhooks).

    Encrypted at rest; shown once, when an admin creates or rotates it. After a rotation the previous
    secret also signs (a second `v1,` signature) until `previous_secret_expires_at`, so receivers can
    switch over without rejecting a callback."""

    workspace = models.OneToOneField(
        Workspace, on_delete=models.CASCADE, primary_key=True, related_name="callback_signing_secret"
    )
    secret_ciphertext = models.BinaryField()
    previous_secret_ciphertext = models.BinaryField(null=True, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    rotated_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")


class McpServer(models.Model):
    """A remote MCP server (streamable HTTP) the workspace's mcp nodes and agents may call.

    Header values are secret references (`{"secret": "NAME"}`), resolved only when a call is made; `tools`
    caches the last "Fetch tools" answer so that validation can check arguments against input schemas."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="mcp_servers")
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=2000)
    headers = models.JSONField(default=dict, blank=True)  # {header: {"secret": NAME}}
    allowed_tools = models.JSONField(null=True, blank=True)  # None = every tool the server offers
    tools = models.JSONField(null=True, blank=True)  # [{name, description, input_schema}] as last fetched
    tools_fetched_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="unique_mcp_server_name")]

    def __str__(self) -> str:
        return self.name
