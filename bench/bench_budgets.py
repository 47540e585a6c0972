"""Budget reservation benchmark: what `budget_reserve` + `budget_settle` add to one model call, in a database of
its own, with no budget, with a workspace budget, and with a workspace budget, a workflow budget and the run's
max_cost_usd (three counters); plus counting a prompt's tokens with tiktoken.

Run: .venv/bin/python bench/bench_budgets.py [--calls N] [--sqlite] [--keep]
PostgreSQL: DATABASE_URL's server (default postgres://postgres@127.0.0.1:5432/trellis) with a database named
<name>_bench_budgets, recreated on every run and dropped at the end unless --keep. --sqlite: a temporary
SQLite file in WAL mode (the default mode's database). Prints milliseconds; asserts nothing (CONVENTIONS 17).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runs.testing.databases import drop_database, recreate_database, sibling_url  # noqa: E402


def timed(fn, calls: int) -> dict:
    """Wall time per call, and this process's CPU time per call (on a busy machine the wall time is mostly
    waiting for a CPU; the CPU time is what the reservation itself costs on the client side)."""
    wall = []
    cpu_started = time.process_time()
    for _ in range(calls):
        started = time.perf_counter()
        fn()
        wall.append((time.perf_counter() - started) * 1000)
    cpu = (time.process_time() - cpu_started) * 1000 / calls
    wall.sort()
    return {
        "median": statistics.median(wall),
        "p95": wall[int(len(wall) * 0.95) - 1],
        "mean": statistics.mean(wall),
        "cpu": cpu,
    }


def show(label: str, t: dict) -> None:
    print(
        f"{label:58s} median {t['median']:6.3f} ms, p95 {t['p95']:6.3f} ms, mean {t['mean']:6.3f} ms, "
        f"client CPU {t['cpu']:6.3f} ms",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite file instead of PostgreSQL")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL bench database afterwards")
    args = parser.parse_args()

    own = None
    if args.sqlite:
        tmp = tempfile.mkdtemp(prefix="trellis-bench-budgets-")
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
        os.environ["TRELLIS_VAR_DIR"] = tmp
    else:
        own = recreate_database(sibling_url("_bench_budgets"))
        os.environ["DATABASE_URL"] = own
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trellis.settings")
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production-0123456789abcdef")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    try:
        run_bench(args.calls, "SQLite (WAL)" if args.sqlite else "PostgreSQL")
    finally:
        from django.db import connections

        connections.close_all()
        if own and not args.keep:
            drop_database(own)


def run_bench(calls: int, backend: str) -> None:
    from decimal import Decimal

    from accounts.services import user_create, workspace_create
    from budgets.models import RunCostLimit
    from budgets.services import budget_reserve, budget_set, budget_settle
    from builder.models import Workflow
    from runs.llm.metering import prompt_tokens
    from runs.models import Run

    owner = user_create(email="bench@example.com", password="bench-password-123")
    plain_ws = workspace_create(name="No budget", owner=owner)
    ws = workspace_create(name="Budgeted", owner=owner)
    flows = {}
    runs = {}
    for label, workspace in (("plain", plain_ws), ("budgeted", ws)):
        flows[label] = Workflow.objects.create(workspace=workspace, name=label, draft_graph={}, created_by=owner)
        runs[label] = Run.objects.create(workspace=workspace, workflow=flows[label], graph={}, is_draft=True)
    capped = Run.objects.create(workspace=ws, workflow=flows["budgeted"], graph={}, is_draft=True)
    RunCostLimit.objects.create(run=capped, max_cost_usd=Decimal(10**6))
    budget_set(workspace=ws, scope="workspace", window="month", limit_usd=Decimal(10**6), by=owner)

    def call(workspace, run):
        def go():
            held = budget_reserve(
                workspace_id=workspace.pk,
                run_id=str(run.pk),
                model="gpt-4.1-mini",
                prompt_tokens=500,
                max_output_tokens=500,
            )
            budget_settle(reservation=held, model="gpt-4.1-mini", input_tokens=480, output_tokens=200)

        return go

    from django.db import connection

    def round_trip():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    print(f"{backend}, {calls} calls each (reserve + settle, one thread)", flush=True)
    show("baseline: one SELECT 1 round trip", timed(round_trip, calls))
    show("no budget applies (price lookup only)", timed(call(plain_ws, runs["plain"]), calls))
    show("workspace budget (1 counter)", timed(call(ws, runs["budgeted"]), calls))
    budget_set(
        workspace=ws,
        scope="workflow",
        target_id=str(flows["budgeted"].pk),
        window="day",
        limit_usd=Decimal(10**6),
        by=owner,
    )
    show("workspace + workflow budget + run max_cost_usd (3 counters)", timed(call(ws, capped), calls))

    # Holds under contention: threads (each with its own connection) race for a budget of exactly five
    # estimated calls. A figure, not an assertion: it should print 5.
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from budgets.services import BudgetRefused
    from runs.llm.prices import DEFAULT_PRICES

    race_ws = workspace_create(name="Race", owner=owner)
    one = DEFAULT_PRICES["gpt-4.1-mini"].cost(input_tokens=500, output_tokens=500)
    budget_set(workspace=race_ws, scope="workspace", window="month", limit_usd=one * 5, by=owner)
    threads = 16
    gate = threading.Barrier(threads)

    def race(_):
        try:
            gate.wait(30)
            budget_reserve(
                workspace_id=race_ws.pk, run_id=None, model="gpt-4.1-mini", prompt_tokens=500, max_output_tokens=500
            )
            return 1
        except BudgetRefused:
            return 0
        finally:
            connection.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        held = sum(pool.map(race, range(threads)))
    print(
        f"{threads} threads racing for a budget of 5 calls: {held} held, {threads - held} refused "
        f"({(time.perf_counter() - started) * 1000:.0f} ms)",
        flush=True,
    )

    prompt = {
        "instructions": "You are a support triage assistant. " * 20,
        "input": [{"role": "user", "content": "My order 42 arrived broken, I want a refund please. " * 30}],
    }
    tokens = prompt_tokens(prompt)
    show(f"tiktoken prompt count ({tokens} tokens, first call excluded)", timed(lambda: prompt_tokens(prompt), 200))


if __name__ == "__main__":
    main()
