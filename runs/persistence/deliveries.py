"""The delivery log of triggers (webhook calls, schedule fires, result callbacks)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from runs.triggers.models import Delivery, Outcome


def add(line: Delivery) -> None:
    """Store a log line built by its caller (e.g. `webhooks.Admission.log_line`)."""
    line.save(force_insert=True)


def delivery_record(
    *,
    trigger_id,
    outcome: str,
    status_code: int | None = None,
    reason: str = "",
    message: str = "",
    run_id=None,
    kind: str = "webhook",
    test: bool = False,
    message_id: str = "",
    attempt: int = 1,
    duration_ms: int | None = None,
) -> Delivery:
    return Delivery.objects.create(
        trigger_id=trigger_id,
        outcome=outcome,
        status_code=status_code,
        reason=reason[:64],
        message=message[:500],
        run_id=run_id,
        kind=kind,
        test=test,
        message_id=message_id[:255],
        attempt=attempt,
        duration_ms=duration_ms,
    )


def delivery_record_refused(
    *,
    trigger_id,
    status_code: int,
    reason: str,
    message: str,
    test: bool = False,
    message_id: str = "",
    duration_ms: int | None = None,
    now: datetime | None = None,
) -> None:
    """Count one refused webhook call on its trigger's line for this reason and minute (made by the first
    one, which keeps its message and webhook-id). One UPDATE per refusal once the line exists."""
    now = now or timezone.now()
    window_start = now.replace(second=0, microsecond=0)
    line = Delivery.objects.filter(trigger_id=trigger_id, window_start=window_start, reason=reason[:64], test=test)
    if line.update(count=F("count") + 1, last_at=now):
        return
    try:
        with transaction.atomic():
            Delivery.objects.create(
                trigger_id=trigger_id,
                created_at=now,
                outcome=Outcome.REJECTED,
                status_code=status_code,
                reason=reason[:64],
                message=message[:500],
                test=test,
                message_id=message_id[:255],
                duration_ms=duration_ms,
                window_start=window_start,
                last_at=now,
            )
    except IntegrityError:  # another process made the line first
        line.update(count=F("count") + 1, last_at=now)


def delivery_purge(*, now: datetime | None = None) -> int:
    """Delete log lines older than TRELLIS_DELIVERY_RETENTION_DAYS; returns how many went."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.DELIVERY_RETENTION_DAYS)
    deleted, _ = Delivery.objects.filter(created_at__lt=cutoff).delete()
    return deleted
