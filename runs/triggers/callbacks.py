"""Outbound callbacks: when a run finishes that was started by a trigger with a `callback_url`, or through
the API with its own `callback_url`, POST its result there, signed with Standard Webhooks, retried with
backoff, SSRF-guarded.

A trigger's callback is signed with the trigger's secret and logged in its delivery log; an API run's
with the workspace's callback signing secret (and, during a rotation's grace period, the previous one
too), its attempts written to the server log. The `webhook-id` is the same on every attempt
of one run, so receivers can drop repeats.

Each run's delivery state is one RunCallback row (attempts, next_attempt_at, pending/delivered/failed, last
status or error), shown in the run detail. Attempts are claimed from it under a row lock, so in every mode
a pending attempt survives a restart and no attempt is sent twice by two senders."""

import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from accounts.services import callback_signing_secrets
from runs.models import Run
from runs.persistence.deliveries import delivery_record
from runs.triggers.models import CallbackState, DeliveryKind, Outcome, RunCallback, Trigger
from runs.triggers.services import trigger_current_secret
from trellis import signing
from trellis.errors import ApplicationError
from trellis.net import BlockedURLError, guarded_request, resolve_checked

logger = logging.getLogger(__name__)

CALLBACK_URL_MAX_LENGTH = 2000  # Run.callback_url's column


class CallbackError(Exception):
    def __init__(self, message: str, *, retryable: bool, status_code: int | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.status_code = status_code


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
        return _Target(
            url=run.callback_url, secrets=callback_signing_secrets(workspace_id=run.workspace_id), trigger_id=None
        )
    return None


def has_callback(run) -> bool:
    """Whether the run's result is posted. A trigger's run records at its start whether the trigger had a
    callback URL (`trigger.callback`), so finishing the many runs without one costs no query; the URL itself
    is read when sending. Runs started before that was recorded ask the trigger."""
    if getattr(run, "callback_url", ""):
        return True
    info = run.trigger or {}
    if not info.get("trigger_id"):
        return False
    if "callback" in info:
        return bool(info["callback"])
    return _trigger(run) is not None


def shown_url(url: str) -> str:
    """The URL as users and logs may see it: no user info, query or fragment (a receiver's token lives there)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.scheme}://{host}{f':{port}' if port else ''}{parts.path}"


def _scrub(message: str, url: str) -> str:
    """An attempt's error with the URL shown as `shown_url` (errors of the HTTP stack may quote it in full)."""
    parts = urlsplit(url)
    message = message.replace(url, shown_url(url))
    userinfo = parts.netloc.rpartition("@")[0]
    for secret in (parts.query, parts.fragment, userinfo):
        if secret:
            message = message.replace(secret, "…")
    return message


def max_attempts() -> int:
    return len(settings.CALLBACK_BACKOFF_S) + 1


def backoff_for(attempt: int) -> float | None:
    """Seconds before attempt `attempt + 1`, or None when `attempt` was the last one."""
    delays = settings.CALLBACK_BACKOFF_S
    return delays[attempt - 1] if attempt <= len(delays) else None


def _lease_s() -> float:
    # A claimed attempt is due again after this long: its sender died before recording the outcome.
    return settings.CALLBACK_TIMEOUT_S + 60.0


def on_run_finishing(run) -> None:
    """Run-finishing listener for a run whose result is posted (`has_callback`), inside the transaction that
    finishes the run: the first attempt is stored, due now, with the run's end (a process that dies right after
    that commit cannot lose the callback), and a sender is woken once it commits."""
    with transaction.atomic():  # a savepoint: a failure here must not undo the run's end
        callback_ensure(run_id=run.pk)
    transaction.on_commit(lambda: _wake(run.pk, delay_s=0))


def callback_ensure(*, run_id) -> RunCallback | None:
    """The run's callback row, made pending and due now if there is none yet (idempotent). None when the run
    is gone."""

    existing = RunCallback.objects.filter(run_id=run_id).first()
    if existing is not None or not Run.objects.filter(pk=run_id).exists():
        return existing
    now = timezone.now()
    row, _ = RunCallback.objects.get_or_create(
        run_id=run_id, defaults={"next_attempt_at": now, "created_at": now, "updated_at": now}
    )
    return row


Wake = Callable[[object, float], None]


def callback_send_due(*, run_id=None, early_s: float = 0.0, limit: int = 100, wake: Wake | None = None) -> int:
    """Claim and send due attempts one at a time (all runs, or one), each recorded before the next is claimed.
    `early_s` lets a wake-up that was timed for an attempt send it although clocks differ by a little. After
    a failed attempt with a next one, `wake(run_id, delay_s)` is told (default: this mode's wake-up).
    Returns how many attempts were sent."""
    wake = wake or _wake
    sent = 0
    while sent < limit:
        claimed = _claim(run_id=run_id, early_s=early_s)
        if claimed is None:
            return sent
        pk, attempt = claimed
        if attempt is None:
            continue  # marked failed: its last attempt's sender stopped before recording the outcome
        sent += 1
        delay = _send(run_id=pk, attempt=attempt)
        if delay is not None:
            wake(pk, delay)
    return sent


def _claim(*, run_id, early_s: float) -> tuple[object, int | None] | None:
    now = timezone.now()
    with transaction.atomic():
        due = RunCallback.objects.select_for_update(skip_locked=True).filter(
            state=CallbackState.PENDING, next_attempt_at__lte=now + timedelta(seconds=early_s)
        )
        if run_id is not None:
            due = due.filter(run_id=run_id)
        row = due.order_by("next_attempt_at").values_list("run_id", "attempts").first()
        if row is None:
            return None
        pk, attempts = row
        # `attempts` in the filter makes this a compare-and-set where FOR UPDATE is a no-op (SQLite).
        mine = RunCallback.objects.filter(run_id=pk, state=CallbackState.PENDING, attempts=attempts)
        if attempts >= max_attempts():
            mine.update(
                state=CallbackState.FAILED,
                next_attempt_at=None,
                last_error="The last attempt's outcome was lost: its process stopped while sending.",
                updated_at=now,
            )
            return pk, None
        if not mine.update(attempts=attempts + 1, next_attempt_at=now + timedelta(seconds=_lease_s()), updated_at=now):
            return None
        return pk, attempts + 1


def _record(run_id, attempt: int, *, status_code: int | None, error: str, retry_in: float | None) -> None:
    now = timezone.now()
    if not error:
        state, next_at = CallbackState.DELIVERED, None
    elif retry_in is not None:
        state, next_at = CallbackState.PENDING, now + timedelta(seconds=retry_in)
    else:
        state, next_at = CallbackState.FAILED, None
    # Only the sender that claimed this attempt records it (one whose lease ran out finds `attempts` moved on).
    RunCallback.objects.filter(run_id=run_id, state=CallbackState.PENDING, attempts=attempt).update(
        state=state, next_attempt_at=next_at, last_status_code=status_code, last_error=error[:500], updated_at=now
    )


def _send(*, run_id, attempt: int) -> float | None:
    """Send one claimed attempt, log it and record its outcome. Returns the delay before the next attempt."""
    try:
        status_code = callback_attempt(run_id=run_id, attempt=attempt)
    except CallbackError as exc:
        retry_in = backoff_for(attempt) if exc.retryable else None
        _record(run_id, attempt, status_code=exc.status_code, error=str(exc), retry_in=retry_in)
        return retry_in
    except Exception as exc:  # a bug, not the receiver: recorded and retried like a failed attempt
        logger.exception("callback for run %s failed", run_id)
        retry_in = backoff_for(attempt)
        _record(run_id, attempt, status_code=None, error=f"Internal error: {type(exc).__name__}", retry_in=retry_in)
        return retry_in
    _record(run_id, attempt, status_code=status_code, error="", retry_in=None)
    return None


def callback_attempt(*, run_id, attempt: int) -> int:
    """One delivery attempt; logged. Returns the 2xx status code, or raises CallbackError (retryable or not)
    when it did not land."""

    run = Run.objects.get(pk=run_id)
    target = _target(run)
    if target is None:
        raise CallbackError("The run's callback URL was removed.", retryable=False)
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
    error = _scrub(error, target.url)
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
        # An API run's callback has no trigger, hence no delivery log: the attempt goes to the server log
        # (and the run's RunCallback row), with the host only (the URL's query may hold the receiver's token).
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
        raise CallbackError(error, retryable=retryable, status_code=status_code)
    return status_code


def _signed_headers(secrets: list[str], msg_id: str, body: bytes) -> dict[str, str]:
    """Standard Webhooks headers with one `v1,` signature per secret (space separated, as the spec allows)."""
    headers = signing.signed_headers(secrets[0], msg_id, body)
    timestamp = int(headers["webhook-timestamp"])
    extra = [signing.sign(secret, msg_id, timestamp, body) for secret in secrets[1:]]
    headers["webhook-signature"] = " ".join([headers["webhook-signature"], *extra])
    return headers


# Wake-ups. The stored row is the truth; these only make a due attempt go out promptly. Default mode: a
# small in-process pool (timers for the backoff); queue mode: the `triggers.send_callback` task (a countdown).
# A lost wake-up (restart, lost message) is made up for by `callback_sweep`.

_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="trellis-callback")
_queued: set = set()  # run ids submitted to the pool and not yet started: one queued sender per run is enough
_queued_lock = threading.Lock()
_in_flight: set[Future] = set()  # senders submitted and not finished (see inline_wait_idle)
_timers: set[threading.Timer] = set()  # backoff timers not yet fired


def _wake(run_id, delay_s: float) -> None:
    if settings.TRELLIS_EXECUTOR == "celery":
        from runs.triggers.tasks import send_callback

        send_callback.apply_async(args=[str(run_id)], countdown=delay_s or None)
    elif delay_s > 0:
        timer = threading.Timer(delay_s, _fire, args=(run_id,))
        timer.daemon = True
        _timers.add(timer)
        timer.start()
    else:
        _submit(run_id)


def _fire(run_id) -> None:
    _timers.discard(threading.current_thread())
    _submit(run_id)


def _submit(run_id) -> None:
    with _queued_lock:
        if run_id in _queued:
            return
        _queued.add(run_id)
    future = _pool.submit(_inline_send, run_id)
    _in_flight.add(future)
    future.add_done_callback(_in_flight.discard)


def inline_wait_idle(timeout_s: float) -> bool:
    """Drop the pending backoff timers and wait for the senders at work to finish. True when idle.
    Tests call it before they empty the database. A dropped retry is not lost: the stored row is the
    truth and `callback_sweep` sends it."""
    for timer in list(_timers):
        timer.cancel()
    _timers.clear()
    _, not_done = wait(list(_in_flight), timeout=timeout_s)
    return not not_done


def _inline_send(run_id) -> None:
    with _queued_lock:
        _queued.discard(run_id)
    close_old_connections()
    try:
        # A timer may fire a hair before the stored due time: a second of slack.
        callback_send_due(run_id=run_id, early_s=1.0, wake=_wake)
    except Exception:
        logger.exception("callback for run %s failed", run_id)
    finally:
        close_old_connections()


SWEEP_GRACE_S = 30.0  # queue mode: how late a countdown task may be before the sweep sends another


def callback_sweep(*, limit: int = 500) -> int:
    """Wake a sender for every due attempt whose wake-up was lost (a restart, a lost message). Called by the
    scheduler thread (default mode) and by the beat-driven `triggers.schedule_tick` (queue mode), where it
    leaves each countdown task a grace period first. Two wake-ups for one attempt send it once (the claim)."""
    grace = SWEEP_GRACE_S if settings.TRELLIS_EXECUTOR == "celery" else 0.0
    due = list(
        RunCallback.objects.filter(
            state=CallbackState.PENDING, next_attempt_at__lte=timezone.now() - timedelta(seconds=grace)
        )
        .order_by("next_attempt_at")
        .values_list("run_id", flat=True)[:limit]
    )
    for run_id in due:
        _wake(run_id, 0)
    return len(due)


def callback_json(run) -> dict | None:
    """The run's callback as the run detail shows it (None when it has none): the URL without its query,
    never a secret. Before the run finishes it is pending with no attempt made and no time set."""
    row = RunCallback.objects.filter(run_id=run.pk).first()
    trigger = _trigger(run)
    url = trigger.callback_url if trigger is not None else getattr(run, "callback_url", "")
    if row is None and not url:
        return None
    return {
        "url": shown_url(url) if url else None,
        "source": "trigger" if trigger is not None else "run",
        "state": row.state if row else CallbackState.PENDING.value,
        "attempts": row.attempts if row else 0,
        "max_attempts": max_attempts(),
        "last_status_code": row.last_status_code if row else None,
        "last_error": (row.last_error or None) if row else None,
        "next_attempt_at": _iso(row.next_attempt_at) if row else None,
        "updated_at": _iso(row.updated_at) if row else None,
    }
