"""REST API for a workflow's triggers and their delivery log, under /api/v1/workflows/<id>/triggers."""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.permissions import get_in_workspace
from builder.apis.common import workflow_for
from runs.triggers import selectors, services
from runs.triggers.models import AuthMode, ResponseMode, Trigger, TriggerKind
from trellis.bodies import int_param, validated
from trellis.fields import StrictCharField


def _trigger(request, workflow_id, trigger_id, role: str) -> Trigger:
    workflow = workflow_for(request, workflow_id, role, light=True)
    return get_in_workspace(request, Trigger.objects.filter(workflow=workflow), role, pk=trigger_id)


class TriggerIn(serializers.Serializer):
    kind = serializers.ChoiceField(TriggerKind.choices, default=TriggerKind.WEBHOOK)
    name = StrictCharField(max_length=100, required=False, allow_blank=True, default="")
    enabled = serializers.BooleanField(default=True)
    auth_mode = serializers.ChoiceField(AuthMode.choices, default=AuthMode.SIGNATURE)
    response_mode = serializers.ChoiceField(ResponseMode.choices, default=ResponseMode.ASYNC)
    sync_timeout_s = serializers.IntegerField(min_value=1, max_value=3600, default=30)
    # max_value: the column is a PostgreSQL integer; a bigger number would fail as a 500 at insert time.
    rate_limit_per_minute = serializers.IntegerField(
        min_value=0, max_value=1_000_000, required=False, allow_null=True, default=None
    )
    callback_url = serializers.URLField(max_length=2000, required=False, allow_blank=True, default="")
    cron = StrictCharField(max_length=100, required=False, allow_blank=True, default="")
    timezone = StrictCharField(max_length=64, default="UTC", source="timezone_name")
    input = serializers.DictField(required=False, default=dict, source="schedule_input")


class TriggerPatch(serializers.Serializer):
    name = StrictCharField(max_length=100, required=False, allow_blank=True)
    enabled = serializers.BooleanField(required=False)
    auth_mode = serializers.ChoiceField(AuthMode.choices, required=False)
    response_mode = serializers.ChoiceField(ResponseMode.choices, required=False)
    sync_timeout_s = serializers.IntegerField(min_value=1, max_value=3600, required=False)
    rate_limit_per_minute = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False, allow_null=True)
    callback_url = serializers.URLField(max_length=2000, required=False, allow_blank=True)
    cron = StrictCharField(max_length=100, required=False)
    timezone = StrictCharField(max_length=64, required=False)
    input = serializers.DictField(required=False, source="schedule_input")


class TriggerOut(serializers.Serializer):
    id = serializers.UUIDField()
    workflow_id = serializers.UUIDField()
    kind = serializers.CharField()
    name = serializers.CharField()
    enabled = serializers.BooleanField()
    auth_mode = serializers.CharField()
    response_mode = serializers.CharField()
    sync_timeout_s = serializers.IntegerField()
    rate_limit_per_minute = serializers.IntegerField(allow_null=True)
    callback_url = serializers.CharField()
    url = serializers.CharField(allow_null=True)
    test_url = serializers.CharField(allow_null=True)
    cron = serializers.CharField()
    timezone = serializers.CharField()
    input = serializers.DictField()
    next_fire_at = serializers.DateTimeField(allow_null=True)
    last_fired_at = serializers.DateTimeField(allow_null=True)
    previous_secret_expires_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    secret = serializers.CharField(required=False, help_text="Only in the answer to create and rotate-secret.")


def trigger_out(trigger: Trigger, *, secret: str | None = None) -> dict:
    webhook = trigger.kind == TriggerKind.WEBHOOK
    out = {
        "id": trigger.pk,
        "workflow_id": trigger.workflow_id,
        "kind": trigger.kind,
        "name": trigger.name,
        "enabled": trigger.enabled,
        "auth_mode": trigger.auth_mode,
        "response_mode": trigger.response_mode,
        "sync_timeout_s": trigger.sync_timeout_s,
        "rate_limit_per_minute": trigger.rate_limit_per_minute,
        "callback_url": trigger.callback_url,
        "url": f"{settings.PUBLIC_URL}/hooks/{trigger.key}" if webhook else None,
        "test_url": f"{settings.PUBLIC_URL}/hooks/test/{trigger.key}" if webhook else None,
        "cron": trigger.cron,
        "timezone": trigger.timezone,
        "input": trigger.schedule_input,
        "next_fire_at": trigger.next_fire_at,
        "last_fired_at": trigger.last_fired_at,
        "previous_secret_expires_at": trigger.previous_secret_expires_at,
        "created_at": trigger.created_at,
    }
    if secret is not None:
        out["secret"] = secret
    return TriggerOut(out).data


class DeliveryOut(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    kind = serializers.CharField()
    outcome = serializers.CharField()
    reason = serializers.CharField()
    message = serializers.CharField()
    status_code = serializers.IntegerField(allow_null=True)
    run_id = serializers.UUIDField(allow_null=True)
    test = serializers.BooleanField()
    message_id = serializers.CharField()
    attempt = serializers.IntegerField()
    duration_ms = serializers.IntegerField(allow_null=True)
    count = serializers.IntegerField(help_text="Refused calls: how many this line stands for (one line a minute).")
    last_at = serializers.DateTimeField(allow_null=True, help_text="Refused calls: when the latest one came.")


class TriggerListApi(APIView):
    @extend_schema(responses=TriggerOut(many=True), summary="List a workflow's triggers")
    def get(self, request, workflow_id):
        workflow = workflow_for(request, workflow_id, Role.VIEWER, light=True)
        return Response([trigger_out(t) for t in selectors.trigger_list(workflow=workflow)])

    @extend_schema(request=TriggerIn, responses={201: TriggerOut}, summary="Create a trigger (secret shown once)")
    def post(self, request, workflow_id):
        workflow = workflow_for(request, workflow_id, Role.EDITOR, light=True)
        values = validated(TriggerIn, request)
        trigger, secret = services.trigger_create(workflow=workflow, by=request.user, **values)
        return Response(trigger_out(trigger, secret=secret), status=status.HTTP_201_CREATED)


class TriggerDetailApi(APIView):
    @extend_schema(responses=TriggerOut, summary="Read a trigger")
    def get(self, request, workflow_id, trigger_id):
        return Response(trigger_out(_trigger(request, workflow_id, trigger_id, Role.VIEWER)))

    @extend_schema(request=TriggerPatch, responses=TriggerOut, summary="Change a trigger (enable, disable, …)")
    def patch(self, request, workflow_id, trigger_id):
        trigger = _trigger(request, workflow_id, trigger_id, Role.EDITOR)
        trigger = services.trigger_update(trigger=trigger, **validated(TriggerPatch, request, partial=True))
        return Response(trigger_out(trigger))

    @extend_schema(responses={204: None}, summary="Delete a trigger")
    def delete(self, request, workflow_id, trigger_id):
        trigger = _trigger(request, workflow_id, trigger_id, Role.EDITOR)
        services.trigger_delete(trigger=trigger)
        return Response(status=status.HTTP_204_NO_CONTENT)


class _SetEnabledApi(APIView):
    enabled: bool

    @extend_schema(request=None, responses=TriggerOut)
    def post(self, request, workflow_id, trigger_id):
        trigger = _trigger(request, workflow_id, trigger_id, Role.EDITOR)
        return Response(trigger_out(services.trigger_update(trigger=trigger, enabled=self.enabled)))


class TriggerEnableApi(_SetEnabledApi):
    enabled = True


class TriggerDisableApi(_SetEnabledApi):
    enabled = False


class TriggerRotateSecretApi(APIView):
    @extend_schema(
        request=None,
        responses=TriggerOut,
        summary="New secret (shown once); the old one stays valid for TRELLIS_WEBHOOK_SECRET_GRACE_S",
    )
    def post(self, request, workflow_id, trigger_id):
        trigger = _trigger(request, workflow_id, trigger_id, Role.EDITOR)
        trigger, secret = services.trigger_rotate_secret(trigger=trigger)
        return Response(trigger_out(trigger, secret=secret))


class DeliveryListApi(APIView):
    @extend_schema(responses=DeliveryOut(many=True), summary="A trigger's delivery log, newest first")
    def get(self, request, workflow_id, trigger_id):
        trigger = _trigger(request, workflow_id, trigger_id, Role.VIEWER)
        before = int_param(request, "before")
        limit = min(int_param(request, "limit", 50), 200)
        rows = selectors.delivery_list(trigger=trigger, before=before, limit=limit)
        return Response(DeliveryOut(rows, many=True).data)
