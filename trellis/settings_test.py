"""Test override: PostgreSQL and Redis by default (the real services), fast password hashing."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/trellis")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdefghijkl")
os.environ.setdefault("TRELLIS_ENCRYPTION_KEY", "ZmRlZmF1bHQtdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE=")

from trellis.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests choose the executor explicitly; inline keeps most of them in one process.
TRELLIS_EXECUTOR = os.environ.get("TRELLIS_EXECUTOR", "inline")
# Sign-in lockout and reset counters in a cache of this process, emptied before each test (conftest.py).
CACHES = {**CACHES, "throttle": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "throttle"}}  # noqa: F405
THROTTLE_CACHE = AXES_CACHE = "throttle"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not Django's shared-cache in-memory database: background threads (the run executor,
    # ingestion) then get SQLite's WAL concurrency instead of "database table is locked".
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-default-mode.sqlite3")}  # noqa: F405
