"""Server-sent events plumbing shared by the streaming endpoints, and how a reply is cut into pieces."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runs.testing.model_server.server import Handler


def start_sse(handler: Handler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream")
    handler.send_header("Cache-Control", "no-cache")
    handler.send_header("Connection", "close")
    handler.end_headers()
    handler.close_connection = True


def send_event(handler: Handler, data: Any, event: str | None = None) -> None:
    chunk = (f"event: {event}\n" if event else "") + f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n"
    handler.wfile.write(chunk.encode())
    handler.wfile.flush()


def words(text: str) -> list[str]:
    return re.findall(r"\S+\s*|\s+", text) or [text]


def chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]
