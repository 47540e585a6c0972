"""REST API for the builder: node catalog, workflows, drafts, validation, versions, import/export,
templates. Views are thin: check the role with accounts.permissions, call one service, shape the JSON.

Roles: viewers read (and may validate); editors create, edit, publish, restore and archive;
admins delete for good (`DELETE /workflows/<id>?permanent=true`)."""

from builder.apis.catalog import NodeTypeListApi, TemplateListApi
from builder.apis.versions import (
    PublishApi,
    VersionDetailApi,
    VersionDiffApi,
    VersionListApi,
    VersionPublishApi,
    VersionRestoreApi,
)
from builder.apis.workflows import (
    AuditListApi,
    DraftApi,
    DuplicateApi,
    ExportApi,
    ImportApi,
    ValidateApi,
    WorkflowDetailApi,
    WorkflowListApi,
)

__all__ = [
    "AuditListApi",
    "DraftApi",
    "DuplicateApi",
    "ExportApi",
    "ImportApi",
    "NodeTypeListApi",
    "PublishApi",
    "TemplateListApi",
    "ValidateApi",
    "VersionDetailApi",
    "VersionDiffApi",
    "VersionListApi",
    "VersionPublishApi",
    "VersionRestoreApi",
    "WorkflowDetailApi",
    "WorkflowListApi",
]
