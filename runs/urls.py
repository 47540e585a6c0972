"""REST routes for runs, mounted under /api/v1/."""

from django.urls import path

from runs import apis

urlpatterns = [
    path("workflows/<uuid:workflow_id>/runs", apis.WorkflowRunsApi.as_view(), name="workflow-runs"),
    path("runs", apis.RunListApi.as_view(), name="run-list"),
    path("runs/<uuid:run_id>", apis.RunDetailApi.as_view(), name="run-detail"),
    path("runs/<uuid:run_id>/events", apis.RunEventsApi.as_view(), name="run-events"),
    path("runs/<uuid:run_id>/cancel", apis.RunCancelApi.as_view(), name="run-cancel"),
    path("runs/<uuid:run_id>/approvals", apis.RunApprovalsApi.as_view(), name="run-approvals"),
    path("runs/<uuid:run_id>/rerun", apis.RunRerunApi.as_view(), name="run-rerun"),
]
