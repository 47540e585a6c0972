"""Fixed-window rate limiting in the cache: Redis in queue mode, so every web process shares the count."""

import math
import threading
import time

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

_local_lock = threading.Lock()


def hit(bucket: str, *, limit: int, window_s: int = 60) -> int | None:
    """Count one request in `bucket`. Returns None when allowed, else the seconds until the window resets."""
    now = time.time()
    window = int(now // window_s)
    key = f"trellis:rl:{bucket}:{window}"
    count = _incr(key, window_s + 1)
    if count <= limit:
        return None
    return max(1, math.ceil((window + 1) * window_s - now))


def _incr(key: str, ttl: int) -> int:
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        client = backend._cache.get_client(key, write=True)
        full_key = backend.make_and_validate_key(key)
        # One round trip: INCR, then a TTL only when the key is new.
        pipe = client.pipeline(transaction=False)
        pipe.incr(full_key)
        pipe.expire(full_key, ttl, nx=True)
        return int(pipe.execute()[0])
    with _local_lock:
        if backend.add(key, 1, ttl):
            return 1
        try:
            return backend.incr(key)
        except ValueError:  # expired between add and incr
            backend.set(key, 1, ttl)
            return 1
