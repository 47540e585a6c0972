"""WebSocket /ws/knowledge-bases/<id>/: a snapshot of the knowledge base's files (status, error, chunks),
then their live ingestion progress (knowledge/progress.py). Authenticated like /ws/runs/ (session cookie
from our own origin, or an API token in the subprotocol); a knowledge base of another workspace closes
the socket with 4404, as an unknown one does. Access is re-checked when it changes
(accounts.websocket.notify_access_changed) and every TRELLIS_WS_RECHECK_S seconds."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid

from channels.db import database_sync_to_async

from accounts.websocket import (
    CLOSE_NOT_FOUND,
    CLOSE_UNAUTHENTICATED,
    WatchingConsumer,
    session_key_of,
    watch_access_lost,
)
from knowledge import progress
from knowledge.models import KnowledgeBase, KnowledgeFile
from runs import events

log = logging.getLogger(__name__)


@database_sync_to_async
def _access_lost(user, token, session_key, kb_id) -> int | None:
    """None while the caller may watch the knowledge base, else the close code that says why not."""

    workspace_id = KnowledgeBase.objects.filter(pk=kb_id).values_list("workspace_id", flat=True).first()
    return watch_access_lost(user, token, session_key, workspace_id)


@database_sync_to_async
def _snapshot(kb_id) -> list[dict]:
    return [
        {"file_id": str(f["id"]), "name": f["name"], "status": f["status"], "error": f["error"], "chunks": f["chunks"]}
        for f in KnowledgeFile.objects.filter(knowledge_base_id=kb_id).values("id", "name", "status", "error", "chunks")
    ]


class KnowledgeProgressConsumer(WatchingConsumer):
    async def connect(self):
        events.remember_loop(asyncio.get_running_loop())
        self.closed = True  # until watching
        try:
            self.kb_id = uuid.UUID(self.scope["url_route"]["kwargs"]["kb_id"])
        except (KeyError, ValueError):
            await self.close(code=CLOSE_NOT_FOUND)
            return
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if await _access_lost(user, self.scope.get("api_token"), session_key_of(self.scope), self.kb_id) is not None:
            await self.close(code=CLOSE_NOT_FOUND)  # unknown and foreign knowledge bases look the same
            return
        # Join before the snapshot: an event that lands in between is sent after it, never lost.
        await self.watch(progress.group(self.kb_id))
        await self.send(text_data=json.dumps({"type": "snapshot", "files": await _snapshot(self.kb_id)}))
        self.start_rechecks()

    async def access_lost(self) -> int | None:
        return await _access_lost(
            self.scope["user"], self.scope.get("api_token"), session_key_of(self.scope), self.kb_id
        )

    async def knowledge_progress(self, message):
        if self.closed:
            return
        for item in message["events"]:
            await self.send(text_data=json.dumps(item))
