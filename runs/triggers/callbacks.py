"""Outbound callbacks: when a run finishes that was started by a trigger with a `callback_url`, or through
the API with its own `callback_url`, POST its result there, signed with Standard Webhooks, retried with
backoff, SSRF-guarded.

A trigger's callback is signed with the trigger's secret and logged in its delivery log; an API run's
with the workspace's callback signing secret (and, during a rotation's grace period, the previous one
too), its attempts written to the server log. The `webhook-id` is the same on every attempt
of one run, so receivers can drop repeats."""

import json
import logging
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.db import close_old_connections

from runs.triggers import signing
from runs.triggers.models import DeliveryKind, Outcome, Trigger
from runs.triggers.services import delivery_record, trigger_current_secret
from trellis.errors import ApplicationError

logger = logging.getLogger(__name__)

CALLBACK_URL_MAX_LENGTH = 2000  # Run.callback_url's column


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


def _invalid_url(message: str) -> ApplicationError:
    return ApplicationError(
        "validation_error", f"callback_url: {message}", [{"field": "callback_url", "message": message}]
    )


def callback_url_check(url) -> str:
    """The `callback_url` of a run start or rerun request, checked where it is cheap: an http(s) URL of at
    most 2000 characters with a host, whose host is not a blocked address literal (nor `localhost`).
    Host names are resolved and checked again on every delivery, which is what keeps DNS honest."""
    from runs.net import BlockedURLError, resolve_checked

    if url is None or url == "":
        return ""
    if not isinstance(url, str):
        raise _invalid_url("Must be a string.")
    if len(url) > CALLBACK_URL_MAX_LENGTH:
        raise _invalid_url(f"At most {CALLBACK_URL_MAX_LENGTH} characters.")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise _invalid_url("Must not contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _invalid_url(f"Not a valid URL ({exc}).") from None
    if parts.scheme not in ("http", "https"):
        raise _invalid_url("Only http and https URLs are allowed.")
    host = parts.hostname
    if not host:
        raise _invalid_url("The URL has no host.")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        # Numeric hosts only (127.0.0.1, [::1], 2130706433, 0x7f.1): no DNS query at request time.
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
        literal = True
    except (socket.gaierror, UnicodeError):
        literal = False
    if literal or host == "localhost" or host.endswith(".localhost"):
        try:
            resolve_checked(host, port)
        except BlockedURLError as exc:
            raise _invalid_url(str(exc)) from None
        except httpx.ConnectError:  # does not resolve here: each delivery attempt says so in the log
            pass
    return url


@dataclass(frozen=True)
class _Target:
    url: str
    secrets: list[str]  # each adds a `v1,` signature: the current secret first
    trigger_id: object | None  # the trigger whose delivery log records the attempts


def _trigger(run) -> Trigger | None:
    trigger_id = (run.trigger or {}).get("trigger_id")
    if not trigger_id:
        return None
    return Trigger.objects.filter(pk=trigger_id).exclude(callback_url="").first()


def _target(run) -> _Target | None:
    """Where to send the run's result: its trigger's callback (unchanged behaviour), else the run's own."""
    trigger = _trigger(run)
    if trigger is not None:
        return _Target(url=trigger.callback_url, secrets=[trigger_current_secret(trigger)], trigger_id=trigger.pk)
    if getattr(run, "callback_url", ""):
        from accounts.services import callback_signing_secrets

        return _Target(
            url=run.callback_url, secrets=callback_signing_secrets(workspace_id=run.workspace_id), trigger_id=None
        )
    return None


def _has_callback(run) -> bool:
    if getattr(run, "callback_url", ""):
        return True
    return bool((run.trigger or {}).get("trigger_id")) and _trigger(run) is not None


def on_run_finished(run) -> None:
    """RUN_FINISHED_LISTENERS hook (called on commit): schedule the first attempt if there is a callback."""
    if not _has_callback(run):
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
    target = _target(run)
    if target is None:
        return
    body = json.dumps(callback_payload(run), separators=(",", ":"), default=str).encode()
    headers = {
        "content-type": "application/json",
        "user-agent": "Trellis-Webhooks/1",
        **_signed_headers(target.secrets, f"run_{run.pk.hex}", body),
    }
    started = time.monotonic()
    status_code, error, retryable = None, "", True
    try:
        response = guarded_request(
            "POST",
            target.url,
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
    reason = "" if not error else ("blocked_url" if not retryable else "callback_failed")
    duration_ms = int((time.monotonic() - started) * 1000)
    if target.trigger_id is not None:
        delivery_record(
            trigger_id=target.trigger_id,
            kind=DeliveryKind.CALLBACK,
            outcome=Outcome.FAILED if error else Outcome.DELIVERED,
            status_code=status_code,
            reason=reason,
            message=error,
            run_id=run.pk,
            attempt=attempt,
            duration_ms=duration_ms,
        )
    else:
        # An API run's callback has no trigger, hence no delivery log: the attempt goes to the server log,
        # with the host only (the URL's query may hold the receiver's token).
        logger.log(
            logging.WARNING if error else logging.INFO,
            "callback of run %s to %s: attempt %s %s%s (%s ms)",
            run.pk,
            urlsplit(target.url).hostname,
            attempt,
            "failed" if error else "delivered",
            f" [{reason}] {error}" if error else f" ({status_code})",
            duration_ms,
        )
    if error:
        raise CallbackError(error, retryable=retryable)


def _signed_headers(secrets: list[str], msg_id: str, body: bytes) -> dict[str, str]:
    """Standard Webhooks headers with one `v1,` signature per secret (space separated, as the spec allows)."""
    headers = signing.signed_headers(secrets[0], msg_id, body)
    timestamp = int(headers["webhook-timestamp"])
    extra = [signing.sign(secret, msg_id, timestamp, body) for secret in secrets[1:]]
    headers["webhook-signature"] = " ".join([headers["webhook-signature"], *extra])
    return headers


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
