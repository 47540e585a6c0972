"""Blocking ORM work from the async endpoints (webhooks, OpenAI-compatible API, waiting for a result).

A small pool of long-lived threads, each keeping its database connection: what channels'
database_sync_to_async does, minus asgiref's per-call machinery, which cost a webhook more than its
own Python work did."""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from django.conf import settings
from django.db import close_old_connections

_pool: ThreadPoolExecutor | None = None


def in_thread(fn):
    """`await in_thread(fn)(*args, **kwargs)` runs `fn` on the pool."""

    async def call(*args, **kwargs):
        global _pool
        if _pool is None:
            _pool = ThreadPoolExecutor(settings.WEBHOOK_THREADS, thread_name_prefix="trellis-hook")
        return await asyncio.get_running_loop().run_in_executor(_pool, partial(_with_connection, fn, args, kwargs))

    return call


def _with_connection(fn, args, kwargs):
    close_old_connections()  # as Django does around a request: drop a broken or expired connection
    try:
        return fn(*args, **kwargs)
    finally:
        close_old_connections()
