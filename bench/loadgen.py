"""A lean HTTP/1.1 client for the benches' load: kept-alive connections over asyncio streams, one request at a
time on each, JSON in and out.

The benches used httpx.AsyncClient, which spends about 4 ms of CPU per request (its pool, its request and
header models): at a few hundred webhooks a second on this 2-core machine it took more than half a core from
the server it was measuring, and its own delays showed up in the latencies. This client spends a small
fraction of that, so the figures are the server's.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any


class Connection:
    """One kept-alive connection to 127.0.0.1:`port` (reopened when the server closes it)."""

    def __init__(self, port: int, host: str = "127.0.0.1"):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, payload: Any) -> tuple[int, Any]:
        """(status, the answer's JSON, or its text when it is not JSON)."""
        body = json.dumps(payload).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(head + body)
        status, answer, close = await self._answer()
        if close:
            await self.close()
        try:
            return status, json.loads(answer)
        except ValueError:
            return status, answer.decode(errors="replace")

    async def _answer(self) -> tuple[int, bytes, bool]:
        reader = self.reader
        status = int((await reader.readline()).split()[1])
        length, chunked, close = 0, False, False
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value
            elif name == b"connection":
                close = value == b"close"
        if not chunked:
            return status, await reader.readexactly(length), close
        parts = []
        while size := int((await reader.readline()).split(b";")[0], 16):
            parts.append(await reader.readexactly(size))
            await reader.readline()
        await reader.readline()  # the empty trailer
        return status, b"".join(parts), close

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None
