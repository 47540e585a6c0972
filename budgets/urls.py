"""Budget, price and usage-export routes, mounted under /api/v1/ in trellis/urls.py."""

from django.urls import path

from budgets import apis

urlpatterns = [
    path("budgets", apis.WorkspaceBudgetsApi.as_view(), name="budgets"),
    path("workflows/<uuid:target_id>/budget", apis.WorkflowBudgetApi.as_view(), name="workflow-budget"),
    path("tokens/<uuid:target_id>/budget", apis.TokenBudgetApi.as_view(), name="token-budget"),
    path("chat-deployments/<uuid:target_id>/budget", apis.ChatDeploymentBudgetApi.as_view(), name="deployment-budget"),
    path("model-prices", apis.ModelPricesApi.as_view(), name="model-prices"),
    path(
        "workflows/<uuid:workflow_id>/triggers/<uuid:trigger_id>/max-cost",
        apis.TriggerMaxCostApi.as_view(),
        name="trigger-max-cost",
    ),
    path("usage/export.csv", apis.UsageExportApi.as_view(), name="usage-export"),
]
