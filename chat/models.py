"""Chat deployments of a published workflow, the visitors who talk to them, their threads and messages."""

import secrets
import uuid

from django.conf import settings
from django.db import models


def new_public_id() -> str:
    # 128 random bits: the link is the only secret of a public deployment.
    return secrets.token_urlsafe(16)


class Access(models.TextChoices):
    PUBLIC = "public", "Anyone with the link"
    MEMBERS = "members", "Signed-in workspace members"


class ChatDeployment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="chat_deployments")
    workflow = models.ForeignKey("builder.Workflow", on_delete=models.CASCADE, related_name="chat_deployments")
    public_id = models.CharField(max_length=40, unique=True, default=new_public_id)
    kind = models.CharField(max_length=10, default="chat")
    access = models.CharField(max_length=10, choices=Access.choices, default=Access.PUBLIC)
    allowed_origins = models.JSONField(default=list, blank=True)
    title = models.CharField(max_length=120)
    greeting = models.TextField(blank=True, max_length=2000)
    starter_prompts = models.JSONField(default=list, blank=True)
    theme = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    # Messages per minute; 0 = unlimited.
    visitor_rate_limit_per_minute = models.PositiveIntegerField(default=10)
    rate_limit_per_minute = models.PositiveIntegerField(default=120)
    max_message_chars = models.PositiveIntegerField(default=4000)
    # Per conversation; None = no cap.
    max_messages_per_thread = models.PositiveIntegerField(null=True, blank=True)
    max_tokens_per_thread = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.title} ({self.public_id})"


class ChatVisitor(models.Model):
    """Someone talking to a deployment: known by a signed HttpOnly cookie, or a member's user."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    deployment = models.ForeignKey(ChatDeployment, on_delete=models.CASCADE, related_name="visitors")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)


class ChatThread(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)  # uuid4: 122 random bits
    deployment = models.ForeignKey(ChatDeployment, on_delete=models.CASCADE, related_name="threads")
    visitor = models.ForeignKey(ChatVisitor, on_delete=models.CASCADE, related_name="threads")
    title = models.CharField(max_length=120, blank=True)
    message_count = models.PositiveIntegerField(default=0)
    tokens_used = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["visitor", "-updated_at"]), models.Index(fields=["deployment", "-updated_at"])]


class MessageStatus(models.TextChoices):
    DONE = "done", "Done"
    PENDING = "pending", "Being answered"
    WAITING = "waiting", "Waiting for a decision"
    FAILED = "failed", "Failed"


class ChatMessage(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    thread = models.ForeignKey(ChatThread, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=10)  # user | assistant
    content = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=MessageStatus.choices, default=MessageStatus.DONE)
    run = models.ForeignKey("runs.Run", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    citations = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["thread", "created_at"]), models.Index(fields=["run"])]
