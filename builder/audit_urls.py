"""Read-only route for the workspace audit log. To be mounted under /api/v1/ in trellis/urls.py:
`path("api/v1/", include("builder.audit_urls"))`."""

from django.urls import path

from builder import audit_apis

urlpatterns = [
    path("audit", audit_apis.WorkspaceAuditApi.as_view(), name="workspace-audit"),
]
