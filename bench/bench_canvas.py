"""Canvas benchmark: open a 1,000-node workflow in the real editor (headless Chromium) and measure the
load time and the frame rate while dragging a node and panning. Prints figures; asserts nothing.

Runs the server in default mode (SQLite in a temporary folder, inline executor) on a free port.
Usage: .venv/bin/python bench/bench_canvas.py [--nodes 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, ensure_frontend_built, free_port, wait_http  # noqa: E402

PASSWORD = "bench-Password-123"
TYPES = ["agent", "transform", "if_else", "set_state", "http_request", "user_approval"]

FPS_PROBE = """
() => {
  window.__frames = [];
  const tick = (t) => { window.__frames.push(t); if (window.__frames.length < 100000) requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
}
"""
FPS_READ = """
([start, end]) => {
  const f = window.__frames.filter((t) => t >= start && t <= end);
  const gaps = f.slice(1).map((t, i) => t - f[i]).sort((a, b) => a - b);
  const p = (q) => gaps.length ? gaps[Math.min(gaps.length - 1, Math.floor(q * gaps.length))] : null;
  const max = gaps.length ? gaps[gaps.length - 1] : null;
  return { frames: f.length, seconds: (end - start) / 1000, p50: p(0.5), p95: p(0.95), max };
}
"""


def big_graph(n: int) -> dict:
    columns = 40
    nodes = [
        {
            "id": "start",
            "type": "start",
            "name": "Start",
            "position": {"x": 0, "y": 0},
            "config": {"input_schema": {"type": "object", "properties": {"message": {"type": "string"}}}},
        }
    ]
    for i in range(1, n):
        t = TYPES[i % len(TYPES)]
        config = {
            "agent": {"model": "gpt-4.1-mini", "instructions": f"Step {i}: {{{{ workflow.input.message }}}}"},
            "transform": {"output": {"value": "input"}},
            "if_else": {"cases": [{"port": "yes", "label": "Yes", "condition": "true"}]},
            "set_state": {"assignments": []},
            "http_request": {"method": "GET", "url": "https://example.com"},
            "user_approval": {"message": "ok?"},
        }[t]
        nodes.append(
            {
                "id": f"n{i}",
                "type": t,
                "name": f"{t} {i}",
                "position": {"x": (i % columns) * 260, "y": (i // columns) * 160},
                "config": config,
            }
        )
    ports = {"if_else": "yes", "user_approval": "approved"}
    edges = []
    for i in range(1, n):
        prev = nodes[i - 1]
        edge = {"id": f"e{i}", "source": prev["id"], "target": nodes[i]["id"]}
        if prev["type"] in ports:
            edge["source_port"] = ports[prev["type"]]
        edges.append(edge)
    return {"format": "trellis.graph/1", "nodes": nodes, "edges": edges}


def fps(page, action) -> dict:
    start = page.evaluate("() => performance.now()")
    action()
    end = page.evaluate("() => performance.now()")
    stats = page.evaluate(FPS_READ, [start, end])
    stats["fps"] = round(stats["frames"] / stats["seconds"], 1) if stats["seconds"] else None
    return stats


def report(label: str, r: dict) -> None:
    print(f"{label}: {r['fps']} fps, frame p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms, max {r['max']:.1f} ms")


def drag(page, x: float, y: float, dx: float, dy: float, steps: int = 120) -> None:
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(1, steps + 1):
        page.mouse.move(x + dx * i / steps, y + dy * i / steps)
        page.wait_for_timeout(16)
    page.mouse.up()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    ensure_frontend_built()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as var_dir:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
        env.update(
            TRELLIS_VAR_DIR=var_dir, TRELLIS_DEMO_PASSWORD=PASSWORD, TRELLIS_PUBLIC_URL=f"http://127.0.0.1:{port}"
        )
        python = str(ROOT / ".venv" / "bin" / "python")
        for cmd in (["manage.py", "migrate", "--noinput"], ["manage.py", "bootstrap"]):
            subprocess.run([python, *cmd], cwd=ROOT, env=env, check=True, capture_output=True)
        server = subprocess.Popen(
            [python, "-m", "uvicorn", "trellis.asgi:application", "--port", str(port), "--log-level", "warning"],
            cwd=ROOT,
            env=env,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_http(f"{base}/healthz", server)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=base)
                page = context.new_page()
                page.goto("/accounts/login/")
                page.get_by_label("Email").fill("demo@trellis.local")
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url("**/workflows")
                graph = big_graph(args.nodes)
                workflow_id = page.evaluate(
                    """async (graph) => {
                      const csrf = document.cookie.match(/csrftoken=([^;]+)/)[1];
                      const r = await fetch('/api/v1/workflows', {method: 'POST', credentials: 'same-origin',
                        headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrf},
                        body: JSON.stringify({name: 'Bench', graph})});
                      if (!r.ok) throw new Error(await r.text());
                      return (await r.json()).id;
                    }""",
                    graph,
                )
                print(f"graph: {args.nodes} nodes, {len(graph['edges'])} edges, {len(json.dumps(graph)) // 1024} KiB")

                painted = "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"
                loads = []
                for _ in range(args.runs):
                    page.goto("/workflows")
                    page.wait_for_selector("h1")
                    # client-side navigation, as a user opens a workflow from the list
                    t0 = page.evaluate("() => performance.now()")
                    page.evaluate(
                        "(url) => { history.pushState({}, '', url); dispatchEvent(new PopStateEvent('popstate')); }",
                        f"/workflows/{workflow_id}",
                    )
                    page.wait_for_selector('[data-testid="node-start"]', timeout=60_000)
                    page.evaluate(painted)
                    loads.append(page.evaluate("() => performance.now()") - t0)
                rendered = page.locator(".react-flow__node").count()
                runs = ", ".join(f"{x:.0f} ms" for x in loads)
                print(f"open, client navigation -> canvas painted at the Start node: {runs} ({rendered} cards in view)")

                t0 = page.evaluate("() => Date.now()")
                page.goto(f"/workflows/{workflow_id}")
                page.wait_for_selector('[data-testid="node-start"]', timeout=60_000)
                page.evaluate(painted)
                full = page.evaluate("() => performance.now()")
                print(f"open, full page load incl. HTML, JS and API, from navigation start: {full:.0f} ms")

                page.evaluate(FPS_PROBE)
                pane = page.locator(".react-flow__pane").bounding_box()
                box = page.get_by_test_id("node-n3").bounding_box()
                report(
                    f"drag a node at the opening view ({rendered} rendered)",
                    fps(page, lambda: drag(page, box["x"] + box["width"] / 2, box["y"] + 8, 150, 90)),
                )
                report(
                    "pan the canvas at the opening view",
                    fps(page, lambda: drag(page, pane["x"] + 500, pane["y"] + 650, -300, -200)),
                )

                t0 = page.evaluate("() => performance.now()")
                page.get_by_role("button", name="fit view").click()
                page.wait_for_function(f"() => document.querySelectorAll('.react-flow__node').length >= {args.nodes}")
                page.evaluate(painted)
                fit_ms = page.evaluate("() => performance.now()") - t0
                rendered = page.locator(".react-flow__node").count()
                print(f"zoom to fit all {rendered} cards: {fit_ms:.0f} ms")
                box = page.get_by_test_id("node-n21").bounding_box()
                report(
                    f"drag a node, fit view ({rendered} rendered)",
                    fps(page, lambda: drag(page, box["x"] + box["width"] / 2, box["y"] + 3, 200, 120)),
                )
                report(
                    "pan the canvas, fit view",
                    fps(page, lambda: drag(page, pane["x"] + 300, pane["y"] + 600, -250, -150)),
                )
                browser.close()
        finally:
            server.terminate()
            server.wait(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
