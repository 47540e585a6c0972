"""Standard Webhooks (https://www.standardwebhooks.com): `whsec_` secrets, `v1,<base64 HMAC-SHA256>`
signatures over "<id>.<timestamp>.<body>", a timestamp tolerance, constant-time comparison.

Written out here rather than calling `standardwebhooks.Webhook.verify` because that one only accepts
JSON bodies, has a fixed tolerance and checks one secret; the tests sign with the reference library."""

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Mapping

SECRET_PREFIX = "whsec_"


class SignatureError(Exception):
    """The request's signature headers are missing, stale or do not match."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, msg_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def verify(
    secrets_: Iterable[str], headers: Mapping[str, str], body: bytes, *, tolerance_s: int, now: float | None = None
) -> None:
    """Raise SignatureError unless one of the `v1` signatures matches one of the secrets.

    `headers` has lower-case names. Several secrets are tried so that the previous one keeps working
    during a rotation; several signatures (space separated) are accepted for the same reason."""
    msg_id = headers.get("webhook-id", "")
    timestamp_raw = headers.get("webhook-timestamp", "")
    signature_raw = headers.get("webhook-signature", "")
    if not (msg_id and timestamp_raw and signature_raw):
        raise SignatureError(
            "missing_signature", "The webhook-id, webhook-timestamp and webhook-signature headers are required."
        )
    try:
        timestamp = int(timestamp_raw)
    except ValueError:
        raise SignatureError("invalid_signature", "webhook-timestamp must be a Unix time in seconds.")
    now = time.time() if now is None else now
    if timestamp < now - tolerance_s:
        raise SignatureError("signature_expired", "The webhook timestamp is too old.")
    if timestamp > now + tolerance_s:
        raise SignatureError("signature_expired", "The webhook timestamp is too far in the future.")
    passed: list[bytes] = []
    for versioned in signature_raw.split():
        version, _, value = versioned.partition(",")
        if version != "v1" or not value:
            continue
        try:
            passed.append(base64.b64decode(value, validate=True))
        except ValueError:
            continue
    signed = f"{msg_id}.{timestamp}.".encode() + body
    for secret in secrets_:
        expected = hmac.new(_key(secret), signed, hashlib.sha256).digest()
        # Compare against every candidate (no early exit on the secret side) to keep timing flat.
        if any(hmac.compare_digest(expected, candidate) for candidate in passed):
            return
    raise SignatureError("invalid_signature", "No webhook signature matches this trigger's secret.")
