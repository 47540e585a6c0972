"""Writes for triggers: create, change, rotate the secret, delete; the delivery log and its retention."""

import secrets as pysecrets
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts import crypto
from runs.triggers.models import AuthMode, ResponseMode, Trigger, TriggerKind
from trellis import signing
from trellis.errors import ApplicationError
from trellis.net import BlockedURLError, check_url

UPDATABLE = {
    "name",
    "enabled",
    "auth_mode",
    "response_mode",
    "sync_timeout_s",
    "rate_limit_per_minute",
    "callback_url",
    "cron",
    "timezone",
    "schedule_input",
}


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError("validation_error", message, [{"field": field, "message": message}], status=422)


def _has_published_version(workflow) -> bool:
    return getattr(workflow, "published_version_id", None) is not None


def _check_schedule(cron: str, tz: str) -> None:
    if not cron or not croniter.is_valid(cron):
        raise _invalid("cron", "A schedule needs a valid cron expression, e.g. '*/15 * * * *'.")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise _invalid("timezone", f"Unknown time zone {tz!r}; use an IANA name such as 'Europe/Paris'.")


def _check_callback_url(url: str) -> None:
    if not url:
        return

    try:
        check_url(url)
    except BlockedURLError as exc:
        raise _invalid("callback_url", str(exc))


def schedule_next_fire(*, cron: str, tz: str, after: datetime) -> datetime:
    """The first fire time strictly after `after`, computed on the schedule's wall clock (DST-aware).

    croniter walks naive local times (it mishandles aware zoneinfo datetimes across DST changes); each
    candidate is then placed in the zone: a time skipped by spring-forward lands just after the gap,
    an ambiguous autumn time is its first occurrence."""
    zone = ZoneInfo(tz)
    candidate = after.astimezone(zone).replace(tzinfo=None)
    walker = croniter(cron, candidate)
    for _ in range(1000):
        candidate = walker.get_next(datetime)
        fire = candidate.replace(tzinfo=zone).astimezone(UTC)
        if fire > after:
            return fire
    raise ApplicationError("invalid_schedule", f"The schedule {cron!r} never fires.", status=422)


def trigger_secrets(trigger: Trigger, *, now: datetime | None = None) -> list[str]:
    """The secrets that verify inbound calls: the current one, and the previous one during its grace period."""
    now = now or timezone.now()
    found = [_decrypted(bytes(trigger.secret_ciphertext))]
    if (
        trigger.previous_secret_ciphertext
        and trigger.previous_secret_expires_at
        and trigger.previous_secret_expires_at > now
    ):
        found.append(_decrypted(bytes(trigger.previous_secret_ciphertext)))
    return found


@lru_cache(maxsize=256)
def _decrypted(ciphertext: bytes) -> str:
    # Every inbound call needs its trigger's secret; decrypting (AES + HMAC) each time cost ~0.2 ms.
    # Keyed by ciphertext, so a rotated secret is simply a new entry.
    return crypto.decrypt(ciphertext)


def trigger_current_secret(trigger: Trigger) -> str:
    return crypto.decrypt(trigger.secret_ciphertext)


@transaction.atomic
def trigger_create(
    *,
    workflow,
    by=None,
    kind: str = TriggerKind.WEBHOOK,
    name: str = "",
    auth_mode: str = AuthMode.SIGNATURE,
    response_mode: str = ResponseMode.ASYNC,
    sync_timeout_s: int = 30,
    rate_limit_per_minute: int | None = None,
    callback_url: str = "",
    cron: str = "",
    timezone_name: str = "UTC",
    schedule_input: dict | None = None,
    enabled: bool = True,
) -> tuple[Trigger, str]:
    """Returns the trigger and its `whsec_` secret, which is never shown again."""
    if not _has_published_version(workflow):
        raise ApplicationError(
            "not_published",
            "Publish this workflow before adding a trigger: triggers run the published version.",
            status=422,
        )
    if kind == TriggerKind.SCHEDULE:
        _check_schedule(cron, timezone_name)
    _check_callback_url(callback_url)
    secret = signing.new_secret()
    trigger = Trigger(
        workspace_id=workflow.workspace_id,
        workflow=workflow,
        kind=kind,
        name=name.strip(),
        enabled=enabled,
        key=pysecrets.token_urlsafe(32),
        auth_mode=auth_mode,
        secret_ciphertext=crypto.encrypt(secret),
        response_mode=response_mode,
        sync_timeout_s=sync_timeout_s,
        rate_limit_per_minute=rate_limit_per_minute,
        callback_url=callback_url,
        cron=cron if kind == TriggerKind.SCHEDULE else "",
        timezone=timezone_name,
        schedule_input=schedule_input or {},
        created_by=by,
    )
    if kind == TriggerKind.SCHEDULE:
        trigger.next_fire_at = schedule_next_fire(cron=cron, tz=timezone_name, after=timezone.now())
    trigger.save()
    return trigger, secret


@transaction.atomic
def trigger_update(*, trigger: Trigger, **changes) -> Trigger:
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise _invalid(sorted(unknown)[0], f"{sorted(unknown)[0]} cannot be changed.")
    trigger = Trigger.objects.select_for_update().get(pk=trigger.pk)
    for field, value in changes.items():
        setattr(trigger, field, value)
    if trigger.kind == TriggerKind.SCHEDULE:
        _check_schedule(trigger.cron, trigger.timezone)
        if {"cron", "timezone", "enabled"} & set(changes):
            # Re-enabling starts from now: fires missed while disabled are not owed.
            trigger.next_fire_at = schedule_next_fire(cron=trigger.cron, tz=trigger.timezone, after=timezone.now())
    if "callback_url" in changes:
        _check_callback_url(trigger.callback_url)
    trigger.save()
    return trigger


@transaction.atomic
def trigger_rotate_secret(*, trigger: Trigger, grace_s: int | None = None) -> tuple[Trigger, str]:
    """A new secret; the old one keeps verifying calls for `grace_s` (TRELLIS_WEBHOOK_SECRET_GRACE_S)."""
    trigger = Trigger.objects.select_for_update().get(pk=trigger.pk)
    grace_s = settings.WEBHOOK_SECRET_GRACE_S if grace_s is None else grace_s
    secret = signing.new_secret()
    trigger.previous_secret_ciphertext = trigger.secret_ciphertext
    trigger.previous_secret_expires_at = timezone.now() + timedelta(seconds=grace_s)
    trigger.secret_ciphertext = crypto.encrypt(secret)
    trigger.save(
        update_fields=["previous_secret_ciphertext", "previous_secret_expires_at", "secret_ciphertext", "updated_at"]
    )
    return trigger, secret


def trigger_delete(*, trigger: Trigger) -> None:
    trigger.delete()
