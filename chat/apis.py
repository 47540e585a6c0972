"""REST API for a workflow's chat deployments and their conversations (editors), under
/api/v1/workflows/<id>/deployments."""

from django.conf import settings
from django.http import Http404
from django.utils.html import escape
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.permissions import get_in_workspace
from builder.apis.common import workflow_for
from chat import selectors, services
from chat.models import Access, ChatDeployment, MessageStatus
from trellis.bodies import validated


def _deployment(request, workflow_id, deployment_id, role: str) -> ChatDeployment:
    workflow = workflow_for(request, workflow_id, role, light=True)
    return get_in_workspace(request, ChatDeployment.objects.filter(workflow=workflow), role, pk=deployment_id)


class ThemeIn(serializers.Serializer):
    color = serializers.CharField(max_length=7, required=False, allow_null=True)


class _Fields(serializers.Serializer):
    access = serializers.ChoiceField(Access.choices)
    allowed_origins = serializers.ListField(child=serializers.CharField(max_length=300), max_length=50)
    title = serializers.CharField(max_length=120)
    greeting = serializers.CharField(max_length=2000, allow_blank=True)
    starter_prompts = serializers.ListField(child=serializers.CharField(max_length=200, allow_blank=True), max_length=8)
    theme = ThemeIn()
    enabled = serializers.BooleanField()
    visitor_rate_limit_per_minute = serializers.IntegerField(min_value=0, max_value=100_000)
    rate_limit_per_minute = serializers.IntegerField(min_value=0, max_value=1_000_000)
    max_message_chars = serializers.IntegerField(min_value=1, max_value=100_000)
    max_messages_per_thread = serializers.IntegerField(min_value=1, max_value=100_000, allow_null=True)
    max_tokens_per_thread = serializers.IntegerField(min_value=1, max_value=1_000_000_000, allow_null=True)


class DeploymentIn(_Fields):
    kind = serializers.ChoiceField([("chat", "Chat")], default="chat")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name != "title":
                field.required = False


class DeploymentPatch(_Fields):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


class ThemeOut(serializers.Serializer):
    color = serializers.CharField(required=False, allow_null=True, help_text="#rrggbb")


@extend_schema_field(ThemeOut)
class ThemeField(serializers.DictField):
    """The theme as stored (what ThemeIn took), documented by ThemeOut."""


class DeploymentOut(serializers.Serializer):
    id = serializers.UUIDField()
    workflow_id = serializers.UUIDField()
    public_id = serializers.CharField()
    kind = serializers.CharField(help_text="chat")
    url = serializers.CharField()
    embed_snippet = serializers.CharField()
    access = serializers.ChoiceField(Access.choices)
    allowed_origins = serializers.ListField(child=serializers.CharField())
    title = serializers.CharField()
    greeting = serializers.CharField()
    starter_prompts = serializers.ListField(child=serializers.CharField())
    theme = ThemeField()
    enabled = serializers.BooleanField()
    visitor_rate_limit_per_minute = serializers.IntegerField()
    rate_limit_per_minute = serializers.IntegerField()
    max_message_chars = serializers.IntegerField()
    max_messages_per_thread = serializers.IntegerField(allow_null=True)
    max_tokens_per_thread = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()


def embed_snippet(deployment: ChatDeployment) -> str:
    src = escape(f"{settings.PUBLIC_URL}/chat/embed.js")
    return f'<script src="{src}" data-deployment="{escape(deployment.public_id)}" async></script>'


def deployment_out(deployment: ChatDeployment) -> dict:
    return DeploymentOut(
        {
            "id": deployment.pk,
            "workflow_id": deployment.workflow_id,
            "public_id": deployment.public_id,
            "kind": deployment.kind,
            "url": services.public_url(deployment),
            "embed_snippet": embed_snippet(deployment),
            "access": deployment.access,
            "allowed_origins": deployment.allowed_origins,
            "title": deployment.title,
            "greeting": deployment.greeting,
            "starter_prompts": deployment.starter_prompts,
            "theme": deployment.theme,
            "enabled": deployment.enabled,
            "visitor_rate_limit_per_minute": deployment.visitor_rate_limit_per_minute,
            "rate_limit_per_minute": deployment.rate_limit_per_minute,
            "max_message_chars": deployment.max_message_chars,
            "max_messages_per_thread": deployment.max_messages_per_thread,
            "max_tokens_per_thread": deployment.max_tokens_per_thread,
            "created_at": deployment.created_at,
        }
    ).data


class DeploymentListApi(APIView):
    @extend_schema(responses=DeploymentOut(many=True), summary="List a workflow's chat deployments")
    def get(self, request, workflow_id):
        workflow = workflow_for(request, workflow_id, Role.VIEWER, light=True)
        return Response([deployment_out(d) for d in selectors.deployment_list(workflow=workflow)])

    @extend_schema(request=DeploymentIn, responses={201: DeploymentOut}, summary="Deploy the workflow as a chat")
    def post(self, request, workflow_id):
        workflow = workflow_for(request, workflow_id, Role.EDITOR, light=True)
        values = validated(DeploymentIn, request)
        values.pop("kind", None)
        deployment = services.deployment_create(workflow=workflow, by=request.user, **values)
        return Response(deployment_out(deployment), status=status.HTTP_201_CREATED)


class DeploymentDetailApi(APIView):
    @extend_schema(responses=DeploymentOut, summary="Read a chat deployment")
    def get(self, request, workflow_id, deployment_id):
        return Response(deployment_out(_deployment(request, workflow_id, deployment_id, Role.VIEWER)))

    @extend_schema(request=DeploymentPatch, responses=DeploymentOut, summary="Change or turn off a deployment")
    def patch(self, request, workflow_id, deployment_id):
        deployment = _deployment(request, workflow_id, deployment_id, Role.EDITOR)
        changes = validated(DeploymentPatch, request, partial=True)
        return Response(deployment_out(services.deployment_update(deployment=deployment, **changes)))

    @extend_schema(responses={204: None}, summary="Delete a chat deployment and its conversations")
    def delete(self, request, workflow_id, deployment_id):
        deployment = _deployment(request, workflow_id, deployment_id, Role.EDITOR)
        services.deployment_delete(deployment=deployment)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ThreadOut(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    message_count = serializers.IntegerField()
    tokens_used = serializers.IntegerField()
    visitor_id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class CitationOut(serializers.Serializer):
    title = serializers.CharField()
    url = serializers.CharField(help_text="an http(s) URL, or empty")
    text = serializers.CharField()


class VisitorApprovalOut(serializers.Serializer):
    step_id = serializers.UUIDField()
    message = serializers.CharField()


class MessageOut(serializers.Serializer):
    id = serializers.UUIDField()
    role = serializers.ChoiceField(["user", "assistant"])
    content = serializers.CharField()
    html = serializers.CharField(help_text="an answer's content rendered from Markdown (empty for the user's)")
    status = serializers.ChoiceField(MessageStatus.choices)
    citations = CitationOut(many=True)
    approval = VisitorApprovalOut(allow_null=True, help_text="a decision the run waits for from the visitor")
    created_at = serializers.DateTimeField()
    run_id = serializers.UUIDField(allow_null=True, help_text="the run that answered (assistant messages)")


class ConversationOut(ThreadOut):
    messages = MessageOut(many=True)


class ConversationListApi(APIView):
    @extend_schema(responses=ThreadOut(many=True), summary="A deployment's conversations, newest first")
    def get(self, request, workflow_id, deployment_id):
        deployment = _deployment(request, workflow_id, deployment_id, Role.VIEWER)
        threads = selectors.deployment_threads(deployment=deployment)[:200]
        return Response(ThreadOut(threads, many=True).data)


class ConversationDetailApi(APIView):
    @extend_schema(summary="One conversation with its messages and their runs", responses=ConversationOut)
    def get(self, request, workflow_id, deployment_id, thread_id):
        deployment = _deployment(request, workflow_id, deployment_id, Role.VIEWER)
        thread = selectors.deployment_threads(deployment=deployment).filter(pk=thread_id).first()
        if thread is None:
            raise Http404
        messages = [
            {**selectors.message_view(m), "run_id": str(m.run_id) if m.run_id else None}
            for m in thread.messages.select_related("run").order_by("created_at", "id")
        ]
        return Response({**ThreadOut(thread).data, "messages": messages})
