"""The one helper that publishes run events: persist (with the next `seq`), then broadcast after commit.

Broadcasting happens on a long-lived event loop (a daemon thread for Redis; the consumers' own loop
for the in-memory layer, whose queues are bound to it), through one ordered queue per loop, so the
engine never blocks on the channel layer and listeners see events in `seq` order. Messages are sent
only to groups someone listens to (the in-memory layer's groups are read here; Redis is asked once per
batch, trellis/channel_layer.py).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections import deque

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction
from django.utils import timezone

from runs.persistence.runs import append_event

log = logging.getLogger("trellis.events")

DELTA = "step.delta"


def run_group(run_id) -> str:
    return f"run_{uuid.UUID(str(run_id)).hex}"


def message(*, seq: int | None, type: str, run_id, node_id: str | None, ts, data: dict) -> dict:  # noqa: A002
    return {
        "seq": seq,
        "type": type,
        "run_id": str(run_id),
        "node_id": node_id,
        "ts": ts.isoformat().replace("+00:00", "Z"),
        "data": data,
    }


def publish_event(*, run_id, type: str, node_id: str | None = None, data: dict | None = None) -> dict:  # noqa: A002
    """Persist a run event (except step.delta) and broadcast it to the run's group after commit."""
    data = data or {}
    ts = timezone.now()
    if type == DELTA:
        msg = message(seq=None, type=type, run_id=run_id, node_id=node_id, ts=ts, data=data)
        broadcast(run_id, [msg])
        return msg
    with transaction.atomic():
        seq = append_event(run_id, type=type, node_id=node_id, data=data, ts=ts)
        msg = message(seq=seq, type=type, run_id=run_id, node_id=node_id, ts=ts, data=data)
        transaction.on_commit(lambda: broadcast(run_id, [msg]))
    return msg


# --- broadcasting --------------------------------------------------------------------------------

_consumer_loop: asyncio.AbstractEventLoop | None = None


def remember_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Consumers call this: with the in-memory layer, messages must be sent on their loop."""
    global _consumer_loop
    _consumer_loop = loop


class _LoopSender:
    """Sends messages in submission order on one event loop, in batches: what was handed over while the last
    batch was being sent (and, with `gather_s`, in that much time after its first message) goes as the next
    one. The loop is woken once per batch, not per message (each wake-up is a write to its self-pipe)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, gather_s: float = 0.0):
        self.loop = loop
        self.gather_s = gather_s
        self._pending: deque = deque()
        self._lock = threading.Lock()
        self._draining = False

    def submit(self, layer, group: str, payload: dict) -> None:
        with self._lock:
            self._pending.append((layer, group, payload))
            if self._draining:
                return
            self._draining = True
        try:
            self.loop.call_soon_threadsafe(self._start)
        except RuntimeError:  # the loop is closed: nothing will send these
            with self._lock:
                self._pending.clear()
                self._draining = False
            raise

    def _start(self) -> None:
        self.loop.create_task(self._drain())

    async def _drain(self) -> None:
        while True:
            if self.gather_s:
                await asyncio.sleep(self.gather_s)
            with self._lock:
                if not self._pending:
                    self._draining = False
                    return
                batch = [self._pending.popleft() for _ in range(min(len(self._pending), MAX_BATCH))]
            await _send(batch)


MAX_BATCH = 500


async def _send(batch: list[tuple]) -> None:
    """Send a batch of (layer, group, payload) in order, skipping groups nobody listens to when the layer can
    tell which in one round trip (trellis/channel_layer.py): most runs are watched by no one."""
    watched: dict[int, set[str] | None] = {}
    for layer in {id(layer): layer for layer, _, _ in batch}.values():
        ask = getattr(layer, "watched_groups", None)
        try:
            watched[id(layer)] = None if ask is None else await ask({g for each, g, _ in batch if each is layer})
        except Exception:
            log.exception("could not ask which groups are watched: sending to all")
            watched[id(layer)] = None
    for layer, group, payload in batch:
        listened = watched[id(layer)]
        if listened is not None and group not in listened:
            continue
        try:
            await layer.group_send(group, payload)
        except Exception:
            log.exception("could not broadcast to %s", group)


_senders: dict[int, _LoopSender] = {}
_own_loop: asyncio.AbstractEventLoop | None = None
_lock = threading.Lock()


def _background_loop() -> asyncio.AbstractEventLoop:
    global _own_loop
    with _lock:
        if _own_loop is None or _own_loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="run-events", daemon=True).start()
            _own_loop = loop
        return _own_loop


def _sender_for(loop: asyncio.AbstractEventLoop, gather_s: float = 0.0) -> _LoopSender:
    with _lock:
        sender = _senders.get(id(loop))
        if sender is None or sender.loop is not loop:
            sender = _senders[id(loop)] = _LoopSender(loop, gather_s)
        return sender


# Through Redis, a worker's messages are gathered for this long before they go, as one batch: one question to
# Redis about who listens to the batch's runs, instead of one per few messages (most of the broadcaster's CPU
# at a few hundred runs a second). A watcher sees events at most this much later. The in-memory layer (default
# mode, the consumers' own loop) sends at once.
REDIS_GATHER_S = 0.01


def broadcast(run_id, messages: list[dict]) -> None:
    """Hand messages to the channel layer without waiting. Safe from any thread."""
    if not messages:
        return
    # One channel-layer message per commit: a step's events travel together.
    send_to_group(run_group(run_id), {"type": "run.events", "events": messages})


def send_to_group(group: str, payload: dict) -> None:
    """Hand one channel-layer message to a group without waiting, in submission order. Safe from any
    thread; other live-only streams (knowledge ingestion progress) use it too."""
    layer = get_channel_layer()
    if layer is None:
        return
    if isinstance(layer, InMemoryChannelLayer):
        loop = _consumer_loop
        if loop is None or loop.is_closed() or not layer.groups.get(group):
            # Nobody listens (a listener joins the group before it reads what was stored: it misses nothing).
            # Most runs are watched by no one, and each message was a hop onto the web server's event loop.
            return
        _sender_for(loop).submit(layer, group, payload)
    else:
        _sender_for(_background_loop(), REDIS_GATHER_S).submit(layer, group, payload)
