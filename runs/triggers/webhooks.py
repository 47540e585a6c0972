"""Inbound webhooks (DESIGN §7): find the trigger, check size, type and authentication, rate-limit, turn
the body into the run input and start the run, logging every outcome in the delivery log.

The rate limit comes first (refused calls count too), then the other checks from cheapest to dearest.
Nothing is written for a request that fails one, except a count on its trigger's line in the delivery log
for that reason and minute."""

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from io import BytesIO
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.utils.datastructures import MultiValueDict
from django.utils.http import parse_header_parameters

from runs.persistence import deliveries
from runs.persistence.deliveries import delivery_record_refused
from runs.services import parse_wait, run_start
from runs.triggers import ratelimit
from runs.triggers.lookup import webhook_trigger
from runs.triggers.models import AuthMode, Delivery, Outcome, ResponseMode, Trigger
from runs.triggers.services import trigger_secrets
from trellis import signing
from trellis.errors import ApplicationError
from trellis.middleware import NUL_MESSAGE, has_nul

# Never exposed to expressions or stored with the run: they carry credentials.
AUTH_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "webhook-signature", "x-api-key", "x-trellis-workspace"}
)


@dataclass
class InboundRequest:
    """What the view hands over: nothing Django-specific, so the service is easy to drive in tests."""

    key: str
    test: bool
    headers: dict[str, str]  # lower-case names
    query: dict
    content_type: str  # lower-case, without parameters
    content_length: int | None
    read_body: object  # callable(max_bytes) -> bytes
    wait: str | None = None  # the ?wait= value, unparsed
    _body: bytes | None = field(default=None, repr=False)

    @classmethod
    def from_http(cls, *, key: str, test: bool, headers, query_string: str, read_body) -> "InboundRequest":
        """The one way a webhook call becomes an InboundRequest, whether the lean ASGI endpoint
        (`from_scope`) or the Django view (runs/triggers/hooks.py) received it. `headers`: (name, value)
        pairs; a repeated header is joined with commas, as Django joins them. Raises ApplicationError for
        a NUL in the query or a header (PostgreSQL refuses NUL in text)."""
        joined: dict[str, str] = {}
        for name, value in headers:
            name = name.lower()
            joined[name] = f"{joined[name]},{value}" if name in joined else value
        pairs = parse_qsl(query_string, keep_blank_values=True)
        if has_nul("", pairs, joined.values()):
            raise ApplicationError("bad_request", NUL_MESSAGE)
        content_type, _ = parse_header_parameters(joined.get("content-type", ""))
        try:
            length = int(joined["content-length"]) if joined.get("content-length") else None
        except ValueError:
            length = None
        return cls(
            key=key,
            test=test,
            headers=joined,
            query=group_fields(pairs),
            content_type=content_type.lower(),
            content_length=length,
            read_body=read_body,
            wait=dict(pairs).get("wait"),
        )

    @classmethod
    def from_scope(cls, scope: dict, body: bytes, *, key: str, test: bool) -> "InboundRequest":
        """From an ASGI HTTP scope and its whole body (bounded by runs/triggers/asgi.WebhookBodyLimit)."""
        return cls.from_http(
            key=key,
            test=test,
            headers=((name.decode("latin-1"), value.decode("latin-1")) for name, value in scope.get("headers", [])),
            query_string=scope.get("query_string", b"").decode("utf-8", "replace"),
            read_body=lambda _max_bytes: body,
        )

    def body_upto(self, max_bytes: int) -> bytes:
        """The body, read once: a call the grouped ingest leaves to webhook_receive is checked twice."""
        if self._body is None:
            self._body = self.read_body(max_bytes)
        return self._body


@dataclass
class Accepted:
    trigger_id: uuid.UUID
    run: object
    wait_s: float | None
    status_code: int
    duplicate: bool
    headers: dict = field(default_factory=dict)


def _reject(trigger: Trigger | None, request: InboundRequest, error: ApplicationError, started: float) -> None:
    if trigger is not None:
        delivery_record_refused(
            trigger_id=trigger.pk,
            status_code=error.status,
            reason=error.code,
            message=error.message,
            test=request.test,
            message_id=_message_id(request.headers)[:255],
            duration_ms=int((time.monotonic() - started) * 1000),
        )


def _message_id(headers: dict) -> str:
    return headers.get("webhook-id") or headers.get("idempotency-key") or ""


def webhook_receive(request: InboundRequest, *, on_run=None) -> Accepted:
    """Accept one webhook call or raise ApplicationError (already logged).

    When the caller will wait for the result, `on_run(run_id)` is called once the run is stored and
    before it is dispatched (to start listening to its events)."""
    started = time.monotonic()
    trigger = webhook_trigger(request.key, test=request.test)
    if trigger is None:
        raise ApplicationError("not_found", "No such webhook.", status=404)
    try:
        return _receive(trigger, request, started, on_run)
    except ApplicationError as error:
        _reject(trigger, request, error, started)
        raise


@dataclass
class Admission:
    """A webhook call that passed every check: what its run is started with."""

    run_input: dict
    trigger_info: dict
    request_id: str  # tells a new run from the first run of a repeated idempotency key
    message_id: str
    idempotency_key: str | None
    wait_s: float | None
    status_code: int  # of the answer: 200 when the caller waits for the result, else 202

    def log_line(self, trigger: Trigger, request: InboundRequest, run, started: float, outcome=Outcome.ACCEPTED):
        return Delivery(
            trigger_id=trigger.pk,
            outcome=outcome,
            status_code=self.status_code,
            run_id=run.pk,
            test=request.test,
            message_id=self.message_id[:255],
            duration_ms=int((time.monotonic() - started) * 1000),
        )


def admit(trigger: Trigger, request: InboundRequest) -> Admission:
    """Every check of one call against its trigger, the rate limit first, or ApplicationError. Stores nothing
    (the rate limit counts the call)."""
    if not trigger.enabled or getattr(trigger.workflow, "archived_at", None) is not None:
        raise ApplicationError("not_found", "No such webhook.", status=404)
    # Before anything else, authentication included: refused calls count too, so a flood of bad signatures
    # is cut off at the limit like any other.
    _rate_limit(trigger)
    wait_s = _wait_seconds(trigger, request.wait)
    body = _read_limited(request)
    _authenticate(trigger, request, body)
    run_input = parse_body(request.content_type, body, full_type=request.headers.get("content-type", ""))

    message_id = _message_id(request.headers)
    if len(message_id) > 255:
        raise ApplicationError("bad_request", "webhook-id / Idempotency-Key is longer than 255 characters.")
    request_id = uuid.uuid4().hex
    trigger_info = {
        "type": "webhook",
        "trigger_id": str(trigger.pk),
        "headers": {k: v for k, v in request.headers.items() if k not in AUTH_HEADERS},
        "query": request.query,
        "request_id": request_id,
        "callback": bool(trigger.callback_url),  # whether the run's result is posted: see callbacks.has_callback
    }
    if request.test:
        trigger_info["test"] = True
    return Admission(
        run_input=run_input,
        trigger_info=trigger_info,
        request_id=request_id,
        message_id=message_id,
        idempotency_key=idempotency_key(trigger.pk, message_id, test=request.test) if message_id else None,
        wait_s=wait_s,
        status_code=200 if wait_s else 202,
    )


def _receive(trigger: Trigger, request: InboundRequest, started: float, on_run) -> Accepted:
    admission = admit(trigger, request)
    wait_s = admission.wait_s
    run = run_start(
        workflow=trigger.workflow,
        version="draft" if request.test else "published",
        input=admission.run_input,
        trigger=admission.trigger_info,
        by=None,
        idempotency_key=admission.idempotency_key,
        # Stored with the run in one statement: a run is dispatched only once its log line exists too.
        with_rows=lambda run: [admission.log_line(trigger, request, run, started)],
        before_dispatch=(lambda run: on_run(run.pk)) if on_run is not None and wait_s else None,
        caller_waits=bool(wait_s),
    )
    duplicate = (getattr(run, "trigger", None) or {}).get("request_id") != admission.request_id
    if duplicate:
        if on_run is not None and wait_s:
            on_run(run.pk)
        deliveries.add(admission.log_line(trigger, request, run, started, Outcome.DUPLICATE))
    return Accepted(
        trigger_id=trigger.pk, run=run, wait_s=wait_s, status_code=admission.status_code, duplicate=duplicate
    )


def idempotency_key(trigger_id, message_id: str, *, test: bool = False) -> str:
    """Scoped to the trigger (two senders may both use "1"), and short whatever the sender sends."""
    prefix = f"{'hooktest' if test else 'hook'}:{uuid.UUID(str(trigger_id)).hex}:"
    if len(message_id) <= 60:
        return prefix + message_id
    return prefix + "sha256:" + hashlib.sha256(message_id.encode()).hexdigest()[:40]


def _wait_seconds(trigger: Trigger, raw: str | None) -> float | None:
    """`?wait=`, or the trigger's sync timeout when it is absent; None: answer at once (202)."""
    cap = float(settings.WEBHOOK_MAX_WAIT_S)
    wait = parse_wait(raw, cap=cap)
    if wait is None:
        wait = float(trigger.sync_timeout_s) if trigger.response_mode == ResponseMode.SYNC else 0.0
    return min(wait, cap) or None


SUPPORTED_TYPES = ("application/json", "application/x-www-form-urlencoded", "multipart/form-data", "text/plain")


def _supported(content_type: str) -> bool:
    return content_type in SUPPORTED_TYPES or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


def _read_limited(request: InboundRequest) -> bytes:
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    too_big = ApplicationError(
        "payload_too_large", f"The body is larger than the {limit}-byte limit.", [{"limit": limit}], status=413
    )
    if request.content_length is not None and request.content_length > limit:
        raise too_big
    if request.content_length == 0:
        return b""
    if request.content_type and not _supported(request.content_type):
        raise ApplicationError(
            "unsupported_media_type",
            f"Content type {request.content_type!r} is not accepted; send JSON, a form or plain text.",
            [{"accepted": list(SUPPORTED_TYPES)}],
            status=415,
        )
    body = request.body_upto(limit + 1)
    if len(body) > limit:
        raise too_big
    if body and not request.content_type:
        raise ApplicationError("unsupported_media_type", "Send a Content-Type: JSON, a form or plain text.", status=415)
    return body


def _authenticate(trigger: Trigger, request: InboundRequest, body: bytes) -> None:
    if trigger.auth_mode == AuthMode.NONE:
        return
    secrets_ = trigger_secrets(trigger)
    if trigger.auth_mode == AuthMode.BEARER:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        # Compare against every valid secret (no early exit) so timing says nothing about which matched.
        matches = [hmac.compare_digest(token.strip().encode(), s.encode()) for s in secrets_]
        if scheme.lower() != "bearer" or not any(matches):
            raise ApplicationError(
                "not_authenticated", "Send this trigger's secret as 'Authorization: Bearer whsec_…'.", status=401
            )
        return
    try:
        signing.verify(secrets_, request.headers, body, tolerance_s=settings.WEBHOOK_TOLERANCE_S)
    except signing.SignatureError as exc:
        raise ApplicationError(exc.code, exc.message, status=401)


def _rate_limit(trigger: Trigger) -> None:
    limit = trigger.rate_limit_per_minute
    if limit is None:
        limit = settings.WEBHOOK_RATE_LIMIT_PER_MIN
    if not limit:
        return
    retry_after = ratelimit.hit(f"trigger:{trigger.pk}", limit=limit, window_s=60)
    if retry_after is not None:
        raise ApplicationError(
            "rate_limited",
            f"This trigger accepts {limit} calls per minute; try again in {retry_after} s.",
            [{"limit": limit, "retry_after": retry_after}],
            status=429,
            headers={"Retry-After": str(retry_after)},
        )


def group_fields(pairs) -> dict:
    """Form or query pairs as an object; a repeated name becomes a list."""
    out: dict = {}
    for name, value in pairs:
        if name in out:
            out[name] = (out[name] if isinstance(out[name], list) else [out[name]]) + [value]
        else:
            out[name] = value
    return out


def _multipart(full_type: str, body: bytes) -> dict:
    meta = {"CONTENT_TYPE": full_type, "CONTENT_LENGTH": str(len(body))}
    try:
        fields, files = MultiPartParser(meta, BytesIO(body), [_NoFiles()], "utf-8").parse()
    except MultiPartParserError as exc:
        raise ApplicationError("bad_request", f"The form body is malformed: {exc}.")
    if isinstance(files, MultiValueDict) and files:
        raise ApplicationError(
            "unsupported_media_type", "File uploads are not accepted; send the fields only.", status=415
        )
    return group_fields((name, value) for name in fields for value in fields.getlist(name))


class _NoFiles:
    """An upload handler that keeps no file data (file parts are refused after parsing)."""

    chunk_size = 64 * 1024

    def handle_raw_input(self, *args, **kwargs):
        return None

    def new_file(self, *args, **kwargs):
        pass

    def receive_data_chunk(self, raw_data, start):
        return None

    def file_complete(self, file_size):
        return SimpleUploadedFile("refused", b"")

    def upload_complete(self):
        pass

    def upload_interrupted(self):
        pass


def parse_body(content_type: str, body: bytes, *, full_type: str = "") -> dict:
    """JSON objects as they are, forms as objects (repeated fields become lists), text as {"text": …}."""
    if not body.strip():
        return {}
    if content_type == "multipart/form-data":
        return _multipart(full_type or content_type, body)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ApplicationError("bad_request", "The body is not valid UTF-8.")
    if content_type == "application/x-www-form-urlencoded":
        return group_fields(parse_qsl(text, keep_blank_values=True))
    if content_type == "text/plain":
        return {"text": text}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ApplicationError("bad_request", f"The body is not valid JSON: {exc}.")
    except RecursionError:
        raise ApplicationError("bad_request", "The body is not valid JSON: it is nested too deeply.") from None
    if not isinstance(value, dict):
        raise ApplicationError(
            "invalid_input",
            "The JSON body must be an object: its fields become the run input.",
            [{"path": "", "message": f"expected an object, got {type(value).__name__}"}],
            status=422,
        )
    return value
