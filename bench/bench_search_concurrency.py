"""Many searches in flight: N webhook runs of start → file_search → end in default mode (one uvicorn process,
SQLite, the in-process executor), the query's embedding answered after exactly 1 s by the model stub
(runs/testing/slow_model.py). A knowledge base of a few small files is ingested first (through the same stub).

Reports: peak embedding calls in flight (counted by the stub), runs completed per second, and CPU time per run
of the web process. Before file_search ran on the I/O loop, each search waiting for its embedding held one of
the process's node threads (4 × TRELLIS_RUN_NODE_THREADS, 32 by default): at most that many were in flight.

Run: .venv/bin/python bench/bench_search_concurrency.py  (BENCH_N runs, default 500; BENCH_LATENCY_S, default 1).
Asserts nothing (CONVENTIONS 17).
"""

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_llm_concurrency import base_env, cpu_s, finished_runs, fire, stub_stats  # noqa: E402

from runs.testing import slow_model  # noqa: E402
from runs.testing.graphs import line, node, start  # noqa: E402
from runs.testing.live_server import free_port, start_uvicorn, stop_processes, wait_until_answers  # noqa: E402

N = int(os.environ.get("BENCH_N", "500"))
LATENCY_S = float(os.environ.get("BENCH_LATENCY_S", "1.0"))

GRAPH = line(
    start(),
    node("search", "file_search", knowledge_base="Handbook", query="{{ workflow.input.message }} refunds", top_k=3),
    node("end", "end", output={"results": "nodes.search.output.results"}),
)
FILES = {
    "refunds.md": "# Refunds\nRefunds are paid back within five days of the request.",
    "parking.md": "# Parking\nVisitors park in the basement garage, level minus two.",
    "holidays.md": "# Holidays\nEach employee has twenty-five days of paid holiday a year.",
}


def prepare(env: dict) -> str:
    """A workspace with the knowledge base 'Handbook' (FILES, ingested) and the published workflow 'Search'
    (GRAPH) with a webhook trigger: returns the trigger's key."""
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    script = f"""
import django, json
django.setup()
from accounts.services import user_create, workspace_create
from builder.models import Workflow, WorkflowVersion
from knowledge import jobs
from knowledge.models import KnowledgeFile
from knowledge.services import file_upload, knowledge_base_create
from runs.triggers.services import trigger_create
user = user_create(email="bench-{uuid.uuid4().hex[:6]}@example.com", password="bench-password-123")
ws = workspace_create(name="Bench", owner=user)
kb = knowledge_base_create(workspace=ws, name="Handbook", by=user)
for name, text in json.loads({json.dumps(FILES)!r}).items():
    file_upload(knowledge_base=kb, name=name, data=text.encode())
assert jobs.inline_wait_idle(120), "ingestion did not finish"
statuses = set(KnowledgeFile.objects.filter(knowledge_base=kb).values_list("status", flat=True))
assert statuses == {{"ready"}}, statuses
graph = json.loads({json.dumps(GRAPH)!r})
wf = Workflow.objects.create(workspace=ws, name="Search", draft_graph=graph, created_by=user)
v = WorkflowVersion.objects.create(workflow=wf, number=1, graph=graph, checksum="0" * 64)
wf.published_version = v
wf.save(update_fields=["published_version"])
print(json.dumps(trigger_create(workflow=wf, by=user, rate_limit_per_minute=0, auth_mode="none")[0].key))
"""
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(model_port: int) -> dict:
    tmp = tempfile.mkdtemp(prefix="trellis-bench-search-")
    db = os.path.join(tmp, "bench.sqlite3")
    env = {**base_env(db, model_port), "TRELLIS_VAR_DIR": tmp}
    key = prepare(env)
    port = free_port()
    web = start_uvicorn(port, args=["--log-level", "warning", "--no-access-log"], cwd=ROOT, env=env)
    try:
        wait_until_answers(f"http://127.0.0.1:{port}/healthz", proc=web)
        asyncio.run(fire(port, key, 20))  # warm up: imports, the first client
        deadline = time.monotonic() + 60
        while finished_runs(db) < 20 and time.monotonic() < deadline:
            time.sleep(0.2)
        stub_stats(model_port, reset=True)
        base_cpu = cpu_s(web.pid)
        started = time.monotonic()
        asyncio.run(fire(port, key, N))
        peak = 0
        deadline = time.monotonic() + max(120.0, N * LATENCY_S / 4)
        while time.monotonic() < deadline and finished_runs(db) < N + 20:
            peak = max(peak, stub_stats(model_port)["in_flight"])
            time.sleep(0.1)
        elapsed = time.monotonic() - started
        done = finished_runs(db) - 20
        used_cpu = cpu_s(web.pid) - base_cpu
        peak = max(peak, stub_stats(model_port)["peak"])
        empty = _runs_without_results(db)
    finally:
        stop_processes(web)
    return {
        "peak": peak,
        "runs_per_s": done / elapsed,
        "done": done,
        "cpu_ms": used_cpu * 1000 / max(done, 1),
        "empty": empty,
    }


def _runs_without_results(db: str) -> int:
    """Finished runs whose search found nothing (a failed embedding falls back to the keyword ranking, which
    still finds the refunds file: so this counts failed runs and broken searches)."""
    import sqlite3

    with sqlite3.connect(db, timeout=30) as conn:
        rows = conn.execute("SELECT status, output FROM runs_run").fetchall()
    return sum(1 for status, output in rows if status != "succeeded" or not json.loads(output or "{}").get("results"))


def main() -> None:
    stub, model_port = slow_model.start_process(LATENCY_S)
    try:
        result = measure(model_port)
    finally:
        stop_processes(stub)
    print(f"\n{N} webhook runs of start → file_search → end (default mode), embedding latency {LATENCY_S:g} s:")
    print(f"  peak embedding calls in flight     {result['peak']:>10.0f}")
    print(f"  runs completed per second          {result['runs_per_s']:>10.1f}")
    print(f"  runs completed                     {result['done']:>10.0f}")
    print(f"  CPU per run, web process (ms)      {result['cpu_ms']:>10.2f}")
    print(f"  runs failed or without results     {result['empty']:>10.0f}")


if __name__ == "__main__":
    main()
