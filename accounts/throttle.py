"""Login throttling: failed sign-ins are counted per client IP + email in the cache; past the limit the
pair is locked out until the window expires, whatever the password."""

import hashlib

from django.conf import settings
from django.core.cache import cache


def client_ip(request) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a trusted proxy rewrites it.
    if settings.SECURE_PROXY_SSL_HEADER is not None:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "") or "unknown"


# One client trying many addresses (credential stuffing) is capped too, more loosely than one address.
PER_IP_FACTOR = 5


def _key(request, email: str) -> str:
    digest = hashlib.sha256(f"{client_ip(request)}|{email.strip().lower()}".encode()).hexdigest()[:32]
    return f"trellis:login-failures:{digest}"


def _ip_key(request) -> str:
    return "trellis:login-failures-ip:" + hashlib.sha256(client_ip(request).encode()).hexdigest()[:32]


def login_locked(request, email: str) -> bool:
    limit = settings.LOGIN_MAX_FAILURES
    return (cache.get(_key(request, email)) or 0) >= limit or (
        cache.get(_ip_key(request)) or 0
    ) >= limit * PER_IP_FACTOR


def _count(key: str) -> None:
    # add() starts the window; incr() keeps its expiry, so the lockout ends LOGIN_LOCKOUT_S after the first failure.
    if not cache.add(key, 1, timeout=settings.LOGIN_LOCKOUT_S):
        try:
            cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, timeout=settings.LOGIN_LOCKOUT_S)


def login_failed(request, email: str) -> None:
    _count(_key(request, email))
    _count(_ip_key(request))


def login_succeeded(request, email: str) -> None:
    cache.delete(_key(request, email))


def lockout_minutes() -> int:
    return max(1, round(settings.LOGIN_LOCKOUT_S / 60))
