"""Waiting for a run's end by listening to its channel-layer group instead of polling the database.

The listener joins the run's group inside the transaction that creates the run, so the run cannot
be dispatched (on commit) before someone is listening; a slow database poll remains as a safety net
for a missed message (a restarted Redis, a full channel)."""

import asyncio
import time

from channels.layers import InMemoryChannelLayer, get_channel_layer

from runs.events import remember_loop, run_group
from runs.models import Run
from runs.triggers.threads import in_thread

DONE_EVENTS = {"run.finished", "run.waiting"}
STOP_STATUSES = {"succeeded", "failed", "cancelled", "timed_out", "waiting"}
POLL_S = 1.0


class Listener:
    def __init__(self, layer, channel: str):
        self.layer = layer
        self.channel = channel
        self.run_id = None
        self.loop = asyncio.get_running_loop()

    @classmethod
    async def open(cls) -> "Listener":
        layer = get_channel_layer()
        if isinstance(layer, InMemoryChannelLayer):
            remember_loop(asyncio.get_running_loop())  # in-memory events are delivered on a listener's loop
        return cls(layer, await layer.new_channel())

    def join(self, run_id) -> None:
        """Called from a worker thread before the run is dispatched. The group is joined on the listener's
        own event loop: from the thread, async_to_sync would start a new loop, and with it a new Redis
        connection, on every call. Joining another run leaves the previous one's group (a call whose run
        turned out to repeat an earlier one listens to that one)."""
        joined = asyncio.run_coroutine_threadsafe(self._join(run_id), self.loop)
        joined.result(timeout=10)

    async def _join(self, run_id) -> None:
        await self.close()
        self.run_id = run_id
        await self.layer.group_add(run_group(run_id), self.channel)

    async def close(self) -> None:
        if self.run_id is not None:
            await self.layer.group_discard(run_group(self.run_id), self.channel)
            self.run_id = None

    async def events(self, timeout_s: float):
        """Yield run events until `timeout_s`; yields None every POLL_S of silence."""
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = await asyncio.wait_for(self.layer.receive(self.channel), timeout=min(POLL_S, left))
            except TimeoutError:
                yield None
                continue
            for event in _unpack(message):
                yield event

    async def wait(self, timeout_s: float) -> dict | None:
        """{status, output, error} once the run finishes (or waits for approval); None at the deadline."""
        async for event in self.events(timeout_s):
            if event is None:
                run = await in_thread(_load)(self.run_id)
                if run["status"] in STOP_STATUSES:
                    return run
            elif event.get("type") in DONE_EVENTS:
                if event["type"] == "run.waiting":
                    return await in_thread(_load)(self.run_id)
                data = event.get("data") or {}
                return {"status": data.get("status"), "output": data.get("output"), "error": data.get("error")}
        return None


def _unpack(message: dict) -> list[dict]:
    """The DESIGN §6 events in a channel-layer message: one per commit ("run.events") or a single one."""
    if isinstance(message.get("events"), list):
        return [e for e in message["events"] if isinstance(e, dict)]
    if isinstance(message.get("event"), dict):
        return [message["event"]]
    return [message]


def _load(run_id) -> dict:
    return Run.objects.filter(pk=run_id).values("status", "output", "error").get()
