"""Eval benchmark in default mode (inline executor) on PostgreSQL, with the local model server.

1. Overhead of the eval machinery per item, model time excluded: N items of a non-LLM workflow
   (start → transform → end) as an eval with a string_check grader, against the same N inputs started as
   plain runs (run_start + waiting for each to finish, the same concurrency). Overhead per item =
   (eval wall time − plain runs wall time) / N; the eval's own wall time per item is printed too.
2. A 500-item eval of an agent workflow against the local model server (an LLM call per item) with a
   string_check and a score_model judge grader (a second LLM call per item): wall time, items/s, p50.

Run: .venv/bin/python bench/bench_evals.py [--items N] [--llm-items N] [--keep]
Uses DATABASE_URL's server with a database <name>_bench_evals, recreated and dropped at the end unless
--keep. Prints its figures; asserts nothing about them (CONVENTIONS 17).
"""

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runs.testing.databases import drop_database, recreate_database, sibling_url  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--llm-items", type=int, default=500)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    url = recreate_database(sibling_url("_bench_evals"))
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="trellis.settings",
        TRELLIS_EXECUTOR="inline",
        TRELLIS_SCHEDULER="off",
        LOG_LEVEL="WARNING",
        DEBUG="false",
        SECRET_KEY="bench-secret-key-0123456789-0123456789-0123456789",
        TRELLIS_ENCRYPTION_KEY="ZmRlZmF1bHQtdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE=",
    )
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    try:
        run_benchmarks(args, settings)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(url)


def run_benchmarks(args, settings) -> None:
    from accounts.services import user_create, workspace_create
    from builder.models import Workflow
    from evals.models import Dataset, EvalResult
    from evals.services.datasets import items_add
    from evals.services.evals import eval_start, eval_wait
    from runs.dispatch import inline_wait_idle
    from runs.services import run_start, run_wait
    from runs.testing.model_server import ModelServer
    from runs.tests.helpers import START_SCHEMA, line, node, start

    owner = user_create(email="bench@example.com", password="bench-Password-123")
    ws = workspace_create(name="Bench", owner=owner)
    print(f"concurrency per eval: {settings.EVAL_CONCURRENCY}; inline threads: {settings.INLINE_EXECUTOR_THREADS}")

    # 1. overhead, no model
    graph = line(
        start(START_SCHEMA),
        node("shout", "transform", output={"text": "workflow.input.message.upperAscii()"}),
        node("end", "end", output={"text": "nodes.shout.output.text"}),
    )
    wf = Workflow.objects.create(workspace=ws, name="Shout", draft_graph=graph, created_by=owner)
    exact = {"type": "string_check", "name": "exact", "input": "{{ output.text }}", "reference": "{{ expected }}"}
    ds = Dataset.objects.create(workspace=ws, workflow=wf, name="shout", graders=[exact])
    n = args.items
    items_add(dataset=ds, items=[{"input": {"message": f"m{i}"}, "expected": f"M{i}"} for i in range(n)])

    def plain(i: int) -> None:
        run = run_start(workflow=wf, version="draft", input={"message": f"m{i}"})
        run_wait(run_id=run.pk, timeout_s=60)

    started = time.monotonic()
    with ThreadPoolExecutor(settings.EVAL_CONCURRENCY) as pool:
        list(pool.map(plain, range(n)))
    plain_s = time.monotonic() - started
    inline_wait_idle(60)

    started = time.monotonic()
    ev = eval_start(workflow=wf, dataset=ds, version="draft", by=owner)
    ev = eval_wait(eval_id=ev.pk, timeout_s=600)
    eval_s = time.monotonic() - started
    inline_wait_idle(60)
    print(
        f"\n1. {n} items, no model (transform workflow, string_check), status {ev.status}, "
        f"pass rate {ev.summary.get('pass_rate')}"
    )
    print(f"   plain runs: {plain_s:.2f} s ({plain_s / n * 1000:.1f} ms/run)")
    print(f"   eval:       {eval_s:.2f} s ({eval_s / n * 1000:.1f} ms/item)")
    print(f"   overhead of the eval machinery: {(eval_s - plain_s) / n * 1000:.1f} ms/item")

    # 2. 500 items against the local model
    server = ModelServer().start()
    settings.OPENAI_API_KEY = "bench-key"
    settings.OPENAI_BASE_URL = server.base_url
    agent = line(
        start(START_SCHEMA),
        node("answer", "agent", model="gpt-4.1-mini", instructions="{{ workflow.input.message }}"),
        node("end", "end", output={"text": "nodes.answer.output"}),
    )
    wf2 = Workflow.objects.create(workspace=ws, name="Agent", draft_graph=agent, created_by=owner)
    judge = {
        "type": "score_model",
        "name": "judge",
        "model": "gpt-4.1-mini",
        "input": [{"role": "user", "content": "Output: {{ output.text }}\nExpected: {{ expected }}"}],
    }
    exact2 = {"type": "string_check", "name": "exact", "input": "{{ output.text }}", "reference": "{{ expected }}"}
    ds2 = Dataset.objects.create(workspace=ws, workflow=wf2, name="agent", graders=[exact2, judge])
    m = args.llm_items
    items_add(
        dataset=ds2,
        items=[{"input": {"message": f"question {i}"}, "expected": f"You said: question {i}"} for i in range(m)],
    )
    started = time.monotonic()
    ev2 = eval_start(workflow=wf2, dataset=ds2, version="draft", by=owner)
    ev2 = eval_wait(eval_id=ev2.pk, timeout_s=1800)
    llm_s = time.monotonic() - started
    inline_wait_idle(60)
    latencies = [r.latency_ms for r in EvalResult.objects.filter(eval=ev2) if r.latency_ms is not None]
    print(f"\n2. {m} items against the local model (agent + string_check + score_model judge), status {ev2.status}")
    print(f"   wall time {llm_s:.1f} s, {m / llm_s:.1f} items/s, {llm_s / m * 1000:.1f} ms/item")
    print(f"   pass rate {ev2.summary.get('pass_rate')}, mean scores {ev2.summary.get('mean_scores')}")
    if latencies:
        print(f"   run latency p50 {statistics.median(latencies):.0f} ms (summary p50 {ev2.summary.get('p50_ms')} ms)")
    server.stop()


if __name__ == "__main__":
    main()
