"""REST routes for the builder, mounted under /api/v1/."""

from django.urls import path

from builder import apis

urlpatterns = [
    path("node-types", apis.NodeTypeListApi.as_view(), name="node-type-list"),
    path("templates", apis.TemplateListApi.as_view(), name="template-list"),
    path("workflows", apis.WorkflowListApi.as_view(), name="workflow-list"),
    path("workflows/import", apis.ImportApi.as_view(), name="workflow-import"),
    path("workflows/<uuid:workflow_id>", apis.WorkflowDetailApi.as_view(), name="workflow-detail"),
    path("workflows/<uuid:workflow_id>/draft", apis.DraftApi.as_view(), name="workflow-draft"),
    path("workflows/<uuid:workflow_id>/validate", apis.ValidateApi.as_view(), name="workflow-validate"),
    path("workflows/<uuid:workflow_id>/publish", apis.PublishApi.as_view(), name="workflow-publish"),
    path("workflows/<uuid:workflow_id>/export", apis.ExportApi.as_view(), name="workflow-export"),
    path("workflows/<uuid:workflow_id>/duplicate", apis.DuplicateApi.as_view(), name="workflow-duplicate"),
    path("workflows/<uuid:workflow_id>/audit", apis.AuditListApi.as_view(), name="workflow-audit"),
    path("workflows/<uuid:workflow_id>/versions", apis.VersionListApi.as_view(), name="version-list"),
    path("workflows/<uuid:workflow_id>/versions/<int:number>", apis.VersionDetailApi.as_view(), name="version-detail"),
    path(
        "workflows/<uuid:workflow_id>/versions/<str:a>/diff/<str:b>",
        apis.VersionDiffApi.as_view(),
        name="version-diff",
    ),
    path(
        "workflows/<uuid:workflow_id>/versions/<int:number>/restore",
        apis.VersionRestoreApi.as_view(),
        name="version-restore",
    ),
    path(
        "workflows/<uuid:workflow_id>/versions/<int:number>/publish",
        apis.VersionPublishApi.as_view(),
        name="version-publish",
    ),
]
