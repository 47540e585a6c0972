"""A tiny real HTTP server for tests of outbound calls (http_request, agent HTTP tools, webhooks).

Routes: /echo (JSON description of the request), /status/<code> (JSON body, `Retry-After` on 429),
/redirect?to=<url>[&code=302], /slow?s=<seconds> (waits, then answers), /big?bytes=<n>[&chunked=1],
/text (text/plain), /reflect?header=<name>&status=<code>&pad=<n>&form=raw|json|url|base64 (text/plain: `pad`
x's, then that request header's value in that form, as servers echo credentials back in errors). Every
request is recorded in `requests`."""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit


class _Handler(BaseHTTPRequestHandler):
    server: EchoHTTPServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without this, keep-alive clients wait ~40 ms for each
    # response on Nagle + delayed ACK.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json", headers: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        record = {
            "method": self.command,
            "path": parts.path,
            "query": query,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": raw.decode("utf-8", "replace"),
        }
        self.server.record(record)
        path = parts.path
        try:
            if path == "/echo":
                self._send(200, json.dumps(record).encode())
            elif path.startswith("/status/"):
                code = int(path.rsplit("/", 1)[1])
                extra = {"Retry-After": "2"} if code == 429 else None
                self._send(code, json.dumps({"status": code}).encode(), headers=extra)
            elif path == "/redirect":
                self._send(int(query.get("code", 302)), b"", headers={"Location": query["to"]})
            elif path == "/slow":
                deadline = time.monotonic() + float(query.get("s", 5))
                while time.monotonic() < deadline and not self.server.stopping.is_set():
                    time.sleep(0.02)
                self._send(200, b'{"slow": true}')
            elif path == "/big":
                size = int(query.get("bytes", 100000))
                if query.get("chunked"):
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    chunk = b"x" * 1024
                    sent = 0
                    while sent < size:
                        piece = chunk[: min(1024, size - sent)]
                        self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                        sent += len(piece)
                    self.wfile.write(b"0\r\n\r\n")
                else:
                    self._send(200, b"x" * size, "text/plain")
            elif path == "/reflect":
                self._send(
                    int(query.get("status", 200)), _reflect(query, record["headers"]), "text/plain; charset=utf-8"
                )
            elif path == "/text":
                self._send(200, b"plain words", "text/plain; charset=utf-8")
            else:
                self._send(404, b'{"error": "not found"}')
        except (BrokenPipeError, ConnectionResetError):
            self.server.count("disconnects")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle  # noqa: N815


def _reflect(query: dict, headers: dict) -> bytes:
    value = headers.get(query.get("header", "authorization").lower(), "")
    form = query.get("form", "raw")
    if form == "json":  # as PHP's json_encode writes it: slashes escaped too
        value = json.dumps(value)[1:-1].replace("/", "\\/")
    elif form == "url":
        value = quote(value, safe="")
    elif form == "base64":
        value = base64.b64encode(value.encode()).decode()
    return ("x" * int(query.get("pad", 0)) + value + " (echoed)").encode()


class EchoHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int]):
        super().__init__(address, _Handler)
        self.lock = threading.Lock()
        self.requests: list[dict] = []
        self.stats: dict[str, int] = {}
        self.stopping = threading.Event()

    def record(self, record: dict) -> None:
        with self.lock:
            self.requests.append(record)

    def count(self, name: str) -> None:
        with self.lock:
            self.stats[name] = self.stats.get(name, 0) + 1


class EchoServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.httpd = EchoHTTPServer((host, port))
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://{host}:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, name="echo-server", daemon=True).start()

    @property
    def requests(self) -> list[dict]:
        return self.httpd.requests

    def reset(self) -> None:
        with self.httpd.lock:
            self.httpd.requests.clear()
            self.httpd.stats.clear()

    def stop(self) -> None:
        self.httpd.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
