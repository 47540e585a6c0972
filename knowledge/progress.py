"""Ingestion progress, live to the browser: one channel-layer group per knowledge base, fed by the
ingestion job (`file.progress` events: queued / processing with a fraction / ready / failed with the
reason) and read by the WebSocket /ws/knowledge-bases/<id>/ (knowledge/consumers.py).

Live only, never stored: the file rows hold the status, and a socket starts with a snapshot of them, so
a page that connects late misses nothing but intermediate percentages. Events are sent after the
transaction that changed the status commits (a browser never sees `ready` before the chunks are
searchable)."""

from __future__ import annotations

import uuid

from django.db import transaction

from runs.events import send_to_group

# Where a file's bar stands after each stage; embedding (the slow part) fills PARSED..EMBEDDED.
PARSED = 0.1
EMBEDDED = 0.9


def group(kb_id) -> str:
    return f"knowledge_{uuid.UUID(str(kb_id)).hex}"


def event(file, status: str, progress: float | None = None, error: str = "", chunks: int | None = None) -> dict:
    return {
        "type": "file.progress",
        "file_id": str(file.pk),
        "name": file.name,
        "status": status,
        "progress": round(progress, 3) if progress is not None else None,
        "error": error,
        "chunks": chunks,
    }


def publish(kb_id, events: list[dict]) -> None:
    """Broadcast after the current transaction commits (at once outside one)."""
    if not events:
        return

    transaction.on_commit(lambda: send_to_group(group(kb_id), {"type": "knowledge.progress", "events": events}))


def publish_files(kb_id, files, status: str, **fields) -> None:
    publish(kb_id, [event(f, status, **fields) for f in files])
