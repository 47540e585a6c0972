"""Reads for triggers and their delivery log."""

from django.db.models import QuerySet

from runs.triggers.models import Delivery, Trigger


def trigger_list(*, workflow) -> QuerySet[Trigger]:
    return Trigger.objects.filter(workflow=workflow).order_by("created_at")


def delivery_list(*, trigger: Trigger, before: int | None = None, limit: int = 50) -> list[Delivery]:
    qs = Delivery.objects.filter(trigger=trigger).order_by("-id")
    if before is not None:
        qs = qs.filter(id__lt=before)
    return list(qs[:limit])
