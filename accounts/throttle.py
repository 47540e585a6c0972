"""Sign-in and password-reset throttling.

Every password check goes through `django.contrib.auth.authenticate`, and django-axes sits in front of
it (AUTHENTICATION_BACKENDS): the app's sign-in page, the invitation page and /admin/login/ share one
lockout per client IP + email (`TRELLIS_LOGIN_MAX_FAILURES` within `TRELLIS_LOGIN_LOCKOUT_S`).
`IpThrottleBackend` adds a looser cap per client IP across all emails (credential stuffing), and the
password-reset form is capped per email and per IP. Counters live in the `THROTTLE_CACHE` cache."""

from __future__ import annotations

import hashlib
import math
import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.cache import caches
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver

# One client trying many addresses (credential stuffing) is capped too, more loosely than one address.
PER_IP_FACTOR = 5


def client_ip(request) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a trusted proxy rewrites it.
    if settings.SECURE_PROXY_SSL_HEADER is not None:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def username_of(request, credentials) -> str | None:
    """axes' key for the account: the email the password was checked for, normalised. It must come out the
    same when axes checks the lock (its backend) and when it counts a failure (the signal), whatever the
    form: authenticate() gets it as `username` (our forms, the admin's), the invitation page posts none."""
    credentials = credentials or {}
    raw = credentials.get("username") or credentials.get("email")
    if raw is None and request is not None:
        raw = request.POST.get("username") or request.POST.get("email")
    return raw.strip().lower() if isinstance(raw, str) else None


def failure_limit(request, credentials) -> int:
    return settings.LOGIN_MAX_FAILURES


def cool_off(request=None) -> timedelta:
    return timedelta(seconds=settings.LOGIN_LOCKOUT_S)


def lockout_minutes() -> int:
    return max(1, round(settings.LOGIN_LOCKOUT_S / 60))


def _cache():
    return caches[settings.THROTTLE_CACHE]


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _count(key: str, ttl: int) -> int:
    """Add one to a counter whose window starts with its first hit; returns the new count."""
    cache = _cache()
    if cache.add(key, 1, timeout=ttl):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, timeout=ttl)
        return 1


# --- Sign-in: the per-IP cap beside axes' per IP + email lockout --------------------------------


def _ip_key(request) -> str:
    return "trellis:login-failures-ip:" + _hash(client_ip(request))


@receiver(user_login_failed)
def _count_ip_failure(sender, credentials, request=None, **kwargs) -> None:
    if request is not None:
        _count(_ip_key(request), settings.LOGIN_LOCKOUT_S)


class IpThrottleBackend:
    """First in AUTHENTICATION_BACKENDS: refuses every password check from a client IP that failed
    PER_IP_FACTOR × the per-address limit, whichever addresses it tried. The refusal is axes' lockout
    (same page, same status)."""

    def authenticate(self, request, **credentials):
        if request is None:
            return None
        failures = _cache().get(_ip_key(request)) or 0
        if failures >= settings.LOGIN_MAX_FAILURES * PER_IP_FACTOR:
            request.axes_locked_out = True
            request.axes_credentials = credentials
            raise PermissionDenied("Too many failed sign-in attempts from this address.")
        return None

    # No get_user(): it never signs anyone in, so sessions (and the test client's force_login) skip it.


# --- Password reset -----------------------------------------------------------------------------

RESET_WINDOW_S = 3600


def password_reset_allowed(request, email: str) -> int | None:
    """Count one reset request; None when allowed, else the seconds until the caller may ask again.
    Counted per email (whether or not an account has it: the answer must not tell) and per client IP."""
    now = time.time()
    window = int(now // RESET_WINDOW_S)
    retry_after = max(1, math.ceil((window + 1) * RESET_WINDOW_S - now))
    email_key = f"trellis:reset:email:{window}:{_hash(email.strip().lower())}"
    ip_key = f"trellis:reset:ip:{window}:{_hash(client_ip(request))}"
    over_ip = _count(ip_key, RESET_WINDOW_S + 1) > settings.PASSWORD_RESET_PER_IP
    over_email = _count(email_key, RESET_WINDOW_S + 1) > settings.PASSWORD_RESET_PER_EMAIL
    return retry_after if over_ip or over_email else None
