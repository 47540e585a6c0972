"""REST routes for triggers. Included from runs/hook_urls.py with their full /api/v1/ path."""

from django.urls import path

from runs.triggers import apis

_base = "api/v1/workflows/<uuid:workflow_id>/triggers"

urlpatterns = [
    path(_base, apis.TriggerListApi.as_view(), name="trigger-list"),
    path(f"{_base}/<uuid:trigger_id>", apis.TriggerDetailApi.as_view(), name="trigger-detail"),
    path(f"{_base}/<uuid:trigger_id>/enable", apis.TriggerEnableApi.as_view(), name="trigger-enable"),
    path(f"{_base}/<uuid:trigger_id>/disable", apis.TriggerDisableApi.as_view(), name="trigger-disable"),
    path(f"{_base}/<uuid:trigger_id>/rotate-secret", apis.TriggerRotateSecretApi.as_view(), name="trigger-rotate"),
    path(f"{_base}/<uuid:trigger_id>/deliveries", apis.DeliveryListApi.as_view(), name="trigger-deliveries"),
]
