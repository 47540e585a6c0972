"""Outbound callbacks: when a run started by a trigger with a `callback_url` finishes, POST its result
there, signed with Standard Webhooks (the trigger's secret), retried with backoff, SSRF-guarded.

The `webhook-id` is the same on every attempt of one run, so receivers can drop repeats."""

import json
import logging
import threading
import time
from datetime import UTC, datetime

from django.conf import settings
from django.db import close_old_connections

from runs.triggers import signing
from runs.triggers.models import DeliveryKind, Outcome, Trigger
from runs.triggers.services import delivery_record, trigger_current_secret

logger = logging.getLogger(__name__)


class CallbackError(Exception):
    def __init__(self, message: str, *, retryable: bool):
        super().__init__(message)
        self.retryable = retryable


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def callback_payload(run) -> dict:
    return {
        "type": "run.finished",
        "timestamp": _iso(datetime.now(UTC)),
        "data": {
            "run_id": str(run.pk),
            "workflow_id": str(run.workflow_id),
            "trigger_id": (run.trigger or {}).get("trigger_id"),
            "status": run.status,
            "output": run.output,
            "error": run.error,
            "started_at": _iso(getattr(run, "started_at", None)),
            "finished_at": _iso(getattr(run, "finished_at", None)),
        },
    }


def _target(run) -> Trigger | None:
    trigger_id = (run.trigger or {}).get("trigger_id")
    if not trigger_id:
        return None
    return Trigger.objects.filter(pk=trigger_id).exclude(callback_url="").first()


def on_run_finished(run) -> None:
    """RUN_FINISHED_LISTENERS hook (called on commit): schedule the first attempt if there is a callback."""
    if not (run.trigger or {}).get("trigger_id"):
        return
    if _target(run) is None:
        return
    if settings.TRELLIS_EXECUTOR == "celery":
        from runs.triggers.tasks import send_callback

        send_callback.delay(str(run.pk))
    else:
        _schedule_inline(str(run.pk), attempt=1, delay_s=0)


def callback_attempt(*, run_id: str, attempt: int) -> None:
    """One delivery attempt; logged. Raises CallbackError (retryable or not) when it did not land."""
    from runs.models import Run
    from runs.net import BlockedURLError, guarded_request

    run = Run.objects.get(pk=run_id)
    trigger = _target(run)
    if trigger is None:
        return
    body = json.dumps(callback_payload(run), separators=(",", ":"), default=str).encode()
    headers = {
        "content-type": "application/json",
        "user-agent": "Trellis-Webhooks/1",
        **signing.signed_headers(trigger_current_secret(trigger), f"run_{run.pk.hex}", body),
    }
    started = time.monotonic()
    status_code, error, retryable = None, "", True
    try:
        response = guarded_request(
            "POST",
            trigger.callback_url,
            headers=headers,
            content=body,
            timeout_s=settings.CALLBACK_TIMEOUT_S,
            max_bytes=64 * 1024,
            max_redirects=0,
        )
        status_code = response.status_code
        if not 200 <= status_code < 300:
            error = f"The callback URL answered {status_code}."
    except BlockedURLError as exc:
        error, retryable = str(exc), False
    except Exception as exc:  # network errors of any kind are worth another attempt
        error = f"{type(exc).__name__}: {exc}"
    delivery_record(
        trigger_id=trigger.pk,
        kind=DeliveryKind.CALLBACK,
        outcome=Outcome.FAILED if error else Outcome.DELIVERED,
        status_code=status_code,
        reason="" if not error else ("blocked_url" if not retryable else "callback_failed"),
        message=error,
        run_id=run.pk,
        attempt=attempt,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    if error:
        raise CallbackError(error, retryable=retryable)


def backoff_for(attempt: int) -> float | None:
    """Seconds before attempt `attempt + 1`, or None when `attempt` was the last one."""
    delays = settings.CALLBACK_BACKOFF_S
    return delays[attempt - 1] if attempt <= len(delays) else None


def _schedule_inline(run_id: str, *, attempt: int, delay_s: float) -> None:
    timer = threading.Timer(delay_s, _inline_attempt, kwargs={"run_id": run_id, "attempt": attempt})
    timer.daemon = True
    timer.start()


def _inline_attempt(*, run_id: str, attempt: int) -> None:
    close_old_connections()
    try:
        callback_attempt(run_id=run_id, attempt=attempt)
    except CallbackError as exc:
        delay = backoff_for(attempt) if exc.retryable else None
        if delay is not None:
            _schedule_inline(run_id, attempt=attempt + 1, delay_s=delay)
    except Exception:
        logger.exception("callback for run %s failed", run_id)
    finally:
        close_old_connections()
