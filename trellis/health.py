"""Per-part health for /healthz: database, channel layer, broker, and (queue mode) a worker heartbeat."""

import asyncio
import time
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection

from trellis.celery import app

PART_TIMEOUT_S = 2.0


def _check(fn) -> dict:
    started = time.perf_counter()
    try:
        detail = fn()
        return {"status": "ok", "ms": round((time.perf_counter() - started) * 1000, 1), **(detail or {})}
    except Exception as exc:  # any failure of a part is reported, not raised
        return {"status": "error", "error": f"{type(exc).__name__}: {exc}"}


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"vendor": connection.vendor}


def _channel_layer():
    layer = get_channel_layer()

    async def round_trip():
        channel = await layer.new_channel()
        marker = uuid.uuid4().hex
        await layer.send(channel, {"type": "health.ping", "marker": marker})
        # A wedged Redis must turn into an error within the probe's budget, not hang the request.
        message = await asyncio.wait_for(layer.receive(channel), timeout=PART_TIMEOUT_S)
        if message.get("marker") != marker:
            raise RuntimeError("channel layer returned the wrong message")

    async_to_sync(round_trip)()
    return {"backend": type(layer).__name__}


def _broker():
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=PART_TIMEOUT_S)
    return {"url": settings.CELERY_BROKER_URL.split("@")[-1]}


def _workers():
    replies = app.control.ping(timeout=1.0) or []  # workers answer over the broker: a live heartbeat
    if not replies:
        raise RuntimeError("no Celery worker answered")
    return {"count": len(replies)}


def health_report() -> dict:
    parts = {"database": _check(_database), "channel_layer": _check(_channel_layer)}
    if settings.TRELLIS_EXECUTOR == "celery":
        parts["broker"] = _check(_broker)
        parts["workers"] = _check(_workers)
    else:
        parts["executor"] = {"status": "ok", "mode": "inline"}
    status = "ok" if all(p["status"] == "ok" for p in parts.values()) else "degraded"
    return {"status": status, "executor": settings.TRELLIS_EXECUTOR, "parts": parts}
