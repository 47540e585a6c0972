"""The audit trail: who did what to which object, when."""

from typing import Any

from django.db import models

from builder.models import AuditEvent


def audit_record(
    *, workspace, actor, action: str, target: models.Model | tuple[str, str], data: Any = None
) -> AuditEvent:
    """Append one audit event. `target` is a model instance or a (type, id) pair."""
    if isinstance(target, tuple):
        target_type, target_id = target
    else:
        target_type, target_id = target._meta.model_name, target.pk
    return AuditEvent.objects.create(
        workspace_id=getattr(workspace, "pk", workspace),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        target_type=str(target_type),
        target_id=str(target_id),
        data=data or {},
    )
