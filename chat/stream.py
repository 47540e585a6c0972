"""Live answers for the chat page over Server-Sent Events, resumable without losing or repeating a token.

`step.delta` events are live only (never stored, no `seq`), so a relay started when the message is sent
(its listener joins the run's group before the run is dispatched) collects the answer's streamed text for
as long as the run goes, whether a browser is connected or not. Each SSE `token` event's id is the
character offset reached in that text; a reconnecting EventSource sends it back as `Last-Event-ID` and gets
exactly the rest. The closing `done` event carries the stored answer (rendered server-side), which replaces
the streamed text. A stream that lands on a process without the relay (another web process in queue mode,
or after a restart) waits for the stored answer instead: fewer live tokens, never a lost or repeated one."""

from __future__ import annotations

import asyncio
import json
import logging
import time

from django.conf import settings

from runs.models import Run
from runs.triggers.threads import in_thread
from runs.triggers.waiting import DONE_EVENTS, Listener

log = logging.getLogger("trellis.chat")

KEEP_AFTER_DONE_S = 120
PING_S = 15.0


class Relay:
    def __init__(self, message_id: str, answer_nodes: set[str]):
        self.message_id = message_id
        self.answer_nodes = answer_nodes
        self.text = ""
        self.done = False
        self.changed = asyncio.Event()
        self.finished_at: float | None = None

    def _notify(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()

    async def run(self, listener: Listener, run_id) -> None:
        try:
            async for event in listener.events(settings.CHAT_ANSWER_TIMEOUT_S):
                if event is None:
                    if await in_thread(_run_stopped)(run_id):
                        break
                    continue
                kind = event.get("type")
                if kind == "step.delta" and (not self.answer_nodes or event.get("node_id") in self.answer_nodes):
                    piece = (event.get("data") or {}).get("text") or ""
                    if piece:
                        self.text += piece
                        self._notify()
                elif kind in DONE_EVENTS:
                    break
        except Exception:
            log.exception("chat relay for message %s failed", self.message_id)
        finally:
            await listener.close()
            self.done = True
            self.finished_at = time.monotonic()
            self._notify()
            asyncio.get_running_loop().call_later(KEEP_AFTER_DONE_S, _forget, self)


_relays: dict[str, Relay] = {}


def _forget(relay: Relay) -> None:
    if _relays.get(relay.message_id) is relay:
        del _relays[relay.message_id]


def _run_stopped(run_id) -> bool:
    status = Run.objects.filter(pk=run_id).values_list("status", flat=True).first()
    return status in (None, "succeeded", "failed", "cancelled", "timed_out", "waiting")


def start_relay(*, message_id: str, run_id, listener: Listener, answer_nodes: set[str]) -> Relay:
    """Call on the event loop, after the listener joined the run's group."""
    relay = Relay(message_id, answer_nodes)
    _relays[message_id] = relay
    relay.task = asyncio.get_running_loop().create_task(relay.run(listener, run_id))
    return relay


def relay_for(message_id: str) -> Relay | None:
    return _relays.get(message_id)


def sse(event: str, data: dict, event_id: str | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def answer_events(*, message_id: str, after: int, final_view):
    """The SSE body: `token` events from character `after` on, then `done` with the stored answer.
    `final_view()` (sync) loads the message as the page shows it."""
    yield "retry: 1000\n\n"
    relay = relay_for(message_id)
    if relay is not None:
        while True:
            changed = relay.changed
            if len(relay.text) > after:
                piece, after = relay.text[after:], len(relay.text)
                yield sse("token", {"text": piece}, str(after))
            if relay.done:
                break
            try:
                await asyncio.wait_for(changed.wait(), timeout=PING_S)
            except TimeoutError:
                yield ": ping\n\n"
    deadline = time.monotonic() + settings.CHAT_ANSWER_TIMEOUT_S
    pinged = time.monotonic()
    while True:
        view = await in_thread(final_view)()
        if view["status"] != "pending" or time.monotonic() > deadline:
            yield sse("done", view, "done")
            return
        # No relay here (or the run went on after it stopped listening): the stored answer is the source.
        await asyncio.sleep(0.25)
        if time.monotonic() - pinged > PING_S:
            pinged = time.monotonic()
            yield ": ping\n\n"
