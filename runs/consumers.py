"""WebSocket /ws/runs/<id>/?after=<seq>: stored events after `seq`, then live ones — no gap, no duplicate.

Order of operations: check permission, join the group (live events start buffering), replay from the
database, then drain the buffer skipping what the replay already sent. A live event that arrives
ahead of one not yet seen is preceded by a database read of the missing range. Read-only.

Access is checked again every TRELLIS_WS_RECHECK_S seconds and whenever the user's access changes
(accounts.websocket.notify_access_changed): a revoked token, a signed-out session or a removed membership
closes the socket (4401 / 4403) and nothing more is sent on it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from urllib.parse import parse_qs

from channels.db import database_sync_to_async

from accounts.models import Membership
from accounts.websocket import CLOSE_NOT_FOUND, WatchingConsumer, session_key_of, watch_access_lost
from runs import events
from runs.models import Run
from runs.selectors import run_events

log = logging.getLogger(__name__)

REPLAY_PAGE = 1000


@database_sync_to_async
def _can_view(user, token, run_id) -> bool:
    run = Run.objects.filter(pk=run_id).only("workspace_id").first()
    if run is None or user is None or not user.is_authenticated:
        return False
    if token is not None and token.workspace_id != run.workspace_id:
        return False
    return Membership.objects.filter(workspace_id=run.workspace_id, user=user).exists()


@database_sync_to_async
def _access_lost(user, token, session_key, run_id) -> int | None:
    """None while the caller may still watch the run, else the close code that says why not."""

    workspace_id = Run.objects.filter(pk=run_id).values_list("workspace_id", flat=True).first()
    return watch_access_lost(user, token, session_key, workspace_id)


@database_sync_to_async
def _stored(run_id, after: int, upto: int | None = None) -> list[dict]:
    items = run_events(run_id=run_id, after=after, limit=REPLAY_PAGE)
    if upto is not None:
        items = [e for e in items if e["seq"] < upto]
    return items


class RunEventsConsumer(WatchingConsumer):
    async def connect(self):
        events.remember_loop(asyncio.get_running_loop())
        self.closed = True  # until watching
        self.last_seq = 0
        self.replaying = True
        self.buffer: list[dict] = []
        try:
            self.run_id = uuid.UUID(self.scope["url_route"]["kwargs"]["run_id"])
        except (KeyError, ValueError):
            await self.close(code=CLOSE_NOT_FOUND)
            return
        query = parse_qs(self.scope.get("query_string", b"").decode())
        try:
            self.last_seq = max(0, int((query.get("after") or ["0"])[0]))
        except ValueError:
            self.last_seq = 0
        if not await _can_view(self.scope.get("user"), self.scope.get("api_token"), self.run_id):
            # Unknown and foreign runs look the same.
            await self.close(code=CLOSE_NOT_FOUND)
            return
        await self.watch(events.run_group(self.run_id))
        self.start_rechecks()
        while True:
            page = await _stored(self.run_id, self.last_seq)
            for event in page:
                await self._send(event)
            if len(page) < REPLAY_PAGE:
                break
        buffered, self.buffer = self.buffer, []
        self.replaying = False
        for event in buffered:
            await self._deliver(event)

    async def access_lost(self) -> int | None:
        return await _access_lost(
            self.scope["user"], self.scope.get("api_token"), session_key_of(self.scope), self.run_id
        )

    async def run_events(self, message):
        if self.closed:
            return
        for event in message["events"]:
            if self.replaying:
                self.buffer.append(event)
            else:
                await self._deliver(event)

    async def _deliver(self, event: dict) -> None:
        if self.closed:
            return
        seq = event.get("seq")
        if seq is None:  # step.delta: live only, never stored
            await self.send(text_data=json.dumps(event))
            return
        if seq <= self.last_seq:
            return
        if seq > self.last_seq + 1:
            for missing in await _stored(self.run_id, self.last_seq, upto=seq):
                await self._send(missing)
        await self._send(event)

    async def _send(self, event: dict) -> None:
        if self.closed or event["seq"] <= self.last_seq:
            return
        self.last_seq = event["seq"]
        await self.send(text_data=json.dumps(event))
