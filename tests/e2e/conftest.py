"""End-to-end fixtures: a real Trellis server (uvicorn, inline executor, PostgreSQL) against a fresh
database, the local OpenAI-compatible model server, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from runs.testing.databases import recreate_database, sibling_url
from runs.testing.live_server import free_port, stop_processes, uvicorn_subprocess, wait_until_answers

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
EMAIL = "demo@trellis.local"
PASSWORD = "e2e-Password-123"


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Kept for bench/bench_canvas.py, which imports it from here."""
    wait_until_answers(url, proc=proc, timeout_s=timeout)


def e2e_database_url(suffix: str = "_e2e") -> str:
    """A database of its own beside the one pytest uses (DATABASE_URL + `suffix`), recreated each session."""
    return recreate_database(sibling_url(suffix))


@pytest.fixture(scope="session")
def frontend_built() -> None:
    ensure_frontend_built()


def ensure_frontend_built() -> None:
    """Builds the front end when the build is missing or older than a source file."""
    frontend = ROOT / "frontend"
    manifest = frontend / "dist" / ".vite" / "manifest.json"
    sources = [frontend / "index.html", frontend / "vite.config.ts", *(frontend / "src").rglob("*")]
    newest = max(p.stat().st_mtime for p in sources if p.is_file())
    if not manifest.exists() or manifest.stat().st_mtime < newest:
        if not (frontend / "node_modules").exists():
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=frontend, check=True)
        subprocess.run(["npm", "run", "build"], cwd=frontend, check=True)


@pytest.fixture(scope="session")
def model_server():
    port = free_port()
    proc = subprocess.Popen(
        # Words come at a reading pace, as from a real model: the page subscribes to a run a moment after it
        # starts, and an answer streamed all at once could be over before then.
        [sys.executable, "-m", "runs.testing.model_server", "--port", str(port), "--word-delay", "0.02"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_answers(f"http://127.0.0.1:{port}/v1/models", proc=proc)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        stop_processes(proc)


@pytest.fixture(scope="session")
def trellis_server(frontend_built, model_server, tmp_path_factory):
    """The server exactly as `make run` starts it (one uvicorn process, inline executor), on PostgreSQL."""
    port = free_port()
    env = {
        "DATABASE_URL": e2e_database_url(),
        "TRELLIS_VAR_DIR": str(tmp_path_factory.mktemp("var")),
        "TRELLIS_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "OPENAI_BASE_URL": model_server,
        "OPENAI_API_KEY": "test-key",
    }
    with e2e_server(env, "e2e-server.log", port=port) as url:
        yield url


@contextmanager
def e2e_server(env: dict, log_name: str, *, port: int | None = None) -> Iterator[str]:
    """A server as `make run` starts it (one uvicorn process, inline executor) with `env` on top, its database
    migrated and bootstrapped (the demo user's password is PASSWORD); its log goes to ARTIFACTS/`log_name`."""
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE", "CELERY_BROKER_URL", "DEBUG"}
        },
        "TRELLIS_EXECUTOR": "inline",
        "TRELLIS_DEMO_PASSWORD": PASSWORD,
        # The MCP tests' FastMCP server listens on loopback in the test process (tests/e2e/test_mcp.py).
        "TRELLIS_HTTP_ALLOWLIST": "127.0.0.1/32",
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    python = str(ROOT / ".venv" / "bin" / "python")
    if not Path(python).exists():
        python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([python, "manage.py", "bootstrap"], cwd=ROOT, env=env, check=True, capture_output=True)
    ARTIFACTS.mkdir(exist_ok=True)
    with open(ARTIFACTS / log_name, "w") as log:
        with uvicorn_subprocess(
            port=port, python=python, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        ) as url:
            yield url


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.e2e_failed = report.failed
    return report


@pytest.fixture
def page(request, browser, trellis_server):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=trellis_server)
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    console: list[str] = []
    pg.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    pg.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    yield pg
    if getattr(request.node, "e2e_failed", False):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(SCREENSHOTS / f"FAILED-{request.node.name}.png"))
        (ARTIFACTS / f"FAILED-{request.node.name}.console.txt").write_text("\n".join(console))
    context.close()


@pytest.fixture
def shot():
    """shot(page, name): saves test-artifacts/screenshots/<name>.png (git-ignored) for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(pg, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        pg.screenshot(path=str(path))
        return path

    return take


def login(pg, email: str = EMAIL, password: str = PASSWORD) -> None:
    pg.goto("/workflows")
    pg.get_by_label("Email").fill(email)
    pg.get_by_label("Password").fill(password)
    pg.get_by_role("button", name="Sign in").click()
    pg.wait_for_url("**/workflows")
