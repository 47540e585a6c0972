"""Queue mode end to end: two uvicorn worker processes and a real Celery worker on their own Redis
database, serving the test database. Webhooks are accepted by the web processes, run by the worker,
answered synchronously through the channel layer, rate-limited across processes, and called back
through the Celery task with a retry."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import redis
from standardwebhooks import Webhook

from runs.models import Run
from runs.testing.callback_receiver import Receiver
from runs.testing.worker import database_url, redis_url
from runs.tests.helpers import wait_for
from runs.triggers.models import Delivery
from runs.triggers.tests.test_webhooks import BODY, signed

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]
REDIS_DB = 11  # this module's own broker, channel layer and cache


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def stack(tmp_path):
    """(base_url) of two uvicorn processes plus a Celery worker, all in queue mode."""
    redis.Redis.from_url(redis_url(REDIS_DB)).flushdb()
    port = _port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "trellis.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url(REDIS_DB),
        "TRELLIS_EXECUTOR": "celery",
        "TRELLIS_SCHEDULER": "off",
        "TRELLIS_HTTP_ALLOWLIST": "127.0.0.1",
        "TRELLIS_CALLBACK_BACKOFF_S": "0.2,0.2",
        "TRELLIS_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "DB_CONN_MAX_AGE": "60",
        "DEBUG": "false",
    }
    web = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "trellis.asgi:application", "--port", str(port), "--workers", "2"],
        cwd=ROOT,
        env=env,
        stdout=open(tmp_path / "web.log", "w"),  # noqa: SIM115 - closed with the process
        stderr=subprocess.STDOUT,
    )
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "trellis",
            "worker",
            "--concurrency=2",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=open(tmp_path / "worker.log", "w"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.post(f"{base}/hooks/warm-up", timeout=1)
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline, (tmp_path / "web.log").read_text()
            time.sleep(0.2)
    yield base
    for process in (web, worker):
        process.terminate()
    for process in (web, worker):
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def test_webhooks_in_queue_mode(stack, make_trigger, settings):
    settings.HTTP_ALLOWLIST = ["127.0.0.1"]
    receiver = Receiver(failures=1)
    trigger, secret = make_trigger(callback_url=receiver.url)
    limited, _ = make_trigger(auth_mode="none", rate_limit_per_minute=4)
    try:
        with httpx.Client(base_url=stack, timeout=30) as http:
            # async: accepted by a web process, run by the worker
            accepted = http.post(f"/hooks/{trigger.key}", content=BODY, headers=signed(secret))
            assert accepted.status_code == 202
            run_id = accepted.json()["run_id"]
            wait_for(lambda: Run.objects.filter(pk=run_id, status="succeeded").exists())

            # sync: the answer comes back through the Redis channel layer
            waited = http.post(f"/hooks/{trigger.key}?wait=20", content=BODY, headers=signed(secret))
            assert waited.status_code == 200
            assert waited.json()["status"] == "succeeded"
            assert waited.json()["output"]["reply"] == "hello"

            # the rate limit is one count across both web processes (a new connection per call)
            if 60 - time.time() % 60 < 5:
                time.sleep(5.1)
            codes = []
            for _ in range(8):
                with httpx.Client(base_url=stack, timeout=30) as fresh:
                    codes.append(fresh.post(f"/hooks/{limited.key}", json={"message": "x"}).status_code)
            assert sorted(codes) == [202] * 4 + [429] * 4

        # callbacks go out from the Celery task, retried after a 500
        receiver.wait_for(4)
        by_run: dict[str, list] = {}
        for request in receiver.requests:
            by_run.setdefault(request["headers"]["webhook-id"], []).append(request)
        assert sorted(len(attempts) for attempts in by_run.values()) == [1, 2]
        for attempts in by_run.values():
            payload = Webhook(secret).verify(attempts[-1]["body"], attempts[-1]["headers"])
            assert payload["data"]["status"] == "succeeded"
        attempts = Delivery.objects.filter(trigger=trigger, kind="callback").values_list("outcome", flat=True)
        wait_for(lambda: len(attempts.all()) == 3)
        assert sorted(attempts.all()) == ["delivered", "delivered", "failed"]
        assert json.loads(receiver.requests[-1]["body"])["type"] == "run.finished"
    finally:
        receiver.close()
