"""The HTTP side of the local model server: request handler and routing, the threaded server that
records requests and counts faults, and `ModelServer`, which runs it in a background thread."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from runs.testing.model_server import chat, embeddings, finetuning, moderations, responses
from runs.testing.model_server.replies import MODELS

MAX_BODY = 10 * 1024 * 1024
ROUTES = {
    "/v1/responses": responses.respond,
    "/v1/chat/completions": chat.respond,
    "/v1/moderations": moderations.respond,
    "/v1/embeddings": embeddings.respond,
}


class Handler(BaseHTTPRequestHandler):
    server: ModelHTTPServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without this, keep-alive clients wait ~40 ms for each
    # response on Nagle + delayed ACK.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def send_json(self, status: int, payload: Any, headers: dict | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def send_error_json(
        self, status: int, message: str, kind: str, code: str | None = None, headers: dict | None = None
    ) -> None:
        self.send_json(status, {"error": {"message": message, "type": kind, "param": None, "code": code}}, headers)

    def _authorized(self) -> bool:
        auth = self.headers.get("Authorization", "")
        key = auth[7:] if auth.startswith("Bearer ") else ""
        if not key or key == "bad-key":
            self.send_error_json(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
            return False
        return True

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?", 1)[0].rstrip("/")
        if path in ("/v1/models", "/models"):
            with self.server.lock:
                names = MODELS + self.server.fine_tuned_models
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "trellis-test"} for m in names]
            return self.send_json(200, {"object": "list", "data": data})
        if path.startswith(("/v1/fine_tuning/", "/v1/files/")):
            if self._authorized() and not finetuning.get(self, path):
                self.send_error_json(404, f"Unknown path {self.path}", "invalid_request_error")
            return None
        if self.path.rstrip("/") in ("", "/health"):
            return self.send_json(200, {"ok": True})
        self.send_error_json(404, f"Unknown path {self.path}", "invalid_request_error")

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return self.send_error_json(413, "Request too large", "invalid_request_error")
        raw = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "/v1/files":
            self.server.record(path, {}, dict(self.headers))
            return finetuning.upload(self, raw) if self._authorized() else None
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self.send_error_json(400, "Body is not JSON", "invalid_request_error")
        self.server.record(path, body, dict(self.headers))
        auth = self.headers.get("Authorization", "")
        key = auth[7:] if auth.startswith("Bearer ") else ""
        if not key or key == "bad-key":
            return self.send_error_json(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
        if path == "/v1/fine_tuning/jobs":
            return finetuning.create_job(self, body)
        if path.startswith("/v1/fine_tuning/jobs/") and path.endswith("/cancel"):
            return finetuning.cancel(self, path.split("/")[4])
        respond = ROUTES.get(path) or ROUTES.get("/v1" + path)
        if respond is None:
            return self.send_error_json(404, f"Unknown path {self.path}", "invalid_request_error")
        try:
            respond(self, body)
        except (BrokenPipeError, ConnectionResetError):
            self.server.count("disconnects")


class ModelHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int]):
        super().__init__(address, Handler)
        self.lock = threading.Lock()
        self.requests: list[dict] = []
        self.stats: dict[str, int] = {}
        self._seen: set[str] = set()
        # Fine-tuning (finetuning.py): uploaded files, jobs, and the ft: models that succeeded jobs made.
        self.files: dict[str, dict] = {}
        self.jobs: dict[str, dict] = {}
        self.fine_tuned_models: list[str] = []
        self.stopping = threading.Event()
        # Seconds between streamed words when no fault asks otherwise: a test that must read a stream while it is
        # still being written sets it (reset() puts it back to 0).
        self.word_delay_s = 0.0

    def record(self, path: str, body: dict, headers: dict) -> None:
        # Header names are case-insensitive, as on the wire (aiohttp sends them in lower case).
        with self.lock:
            self.requests.append({"path": path, "body": body, "headers": httpx.Headers(headers)})
            if len(self.requests) > 1000:
                del self.requests[:500]

    def count(self, name: str) -> None:
        with self.lock:
            self.stats[name] = self.stats.get(name, 0) + 1

    def first_time(self, digest: str) -> bool:
        with self.lock:
            if digest in self._seen:
                return False
            self._seen.add(digest)
            return True


class ModelServer:
    """A running server in a background thread: `base_url` ends in /v1 (what OpenAI(base_url=…) expects)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.httpd = ModelHTTPServer((host, port))
        self.host, self.port = self.httpd.server_address[:2]
        self.base_url = f"http://{self.host}:{self.port}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="model-server", daemon=True)

    def start(self) -> ModelServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def requests(self) -> list[dict]:
        return self.httpd.requests

    @property
    def stats(self) -> dict[str, int]:
        return self.httpd.stats

    def reset(self) -> None:
        with self.httpd.lock:
            self.httpd.requests.clear()
            self.httpd.stats.clear()
            self.httpd._seen.clear()
            self.httpd.files.clear()
            self.httpd.jobs.clear()
            self.httpd.fine_tuned_models.clear()
            self.httpd.word_delay_s = 0.0
