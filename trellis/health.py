"""Per-part health for /healthz: database, channel layer, broker, and (queue mode) a worker heartbeat."""

import time
import uuid

from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import connection


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
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    marker = uuid.uuid4().hex
    async_to_sync(layer.send)(channel, {"type": "health.ping", "marker": marker})
    message = async_to_sync(layer.receive)(channel)
    if message.get("marker") != marker:
        raise RuntimeError("channel layer returned the wrong message")
    return {"backend": type(layer).__name__}


def _broker():
    from trellis.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1)
    return {"url": settings.CELERY_BROKER_URL.split("@")[-1]}


def _workers():
    from trellis.celery import app

    replies = app.control.ping(timeout=1.0) or []
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
