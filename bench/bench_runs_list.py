"""Run list benchmark: 100,000 runs in a PostgreSQL database of its own, then the run list API's first page,
filtered pages and a deep keyset page, timed through the full HTTP stack (Django test client, session auth).

Run: .venv/bin/python bench/bench_runs_list.py [--runs N] [--keep]
Uses DATABASE_URL's server (default postgres://postgres@127.0.0.1:5432/trellis) with a database named
<name>_bench_runs, recreated on every run and dropped at the end unless --keep. Prints milliseconds and the
query plans of the list queries; it asserts nothing about timings (CONVENTIONS 17).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runs.testing.databases import drop_database, recreate_database, sibling_url  # noqa: E402

ROUNDS = 20
PAGE = 50


def timed(fn, rounds: int = ROUNDS) -> dict:
    wall = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        wall.append((time.perf_counter() - started) * 1000)
    return {"first": wall[0], "median": statistics.median(wall[1:]), "p95": sorted(wall)[int(len(wall) * 0.95) - 1]}


def days_ago(days_back: int) -> str:
    import datetime as dt

    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=days_back)).date().isoformat()


def show(label: str, rows: int, t: dict) -> None:
    print(
        f"{label:28s} {rows:3d} rows: first {t['first']:6.1f} ms, median {t['median']:6.1f} ms, p95 {t['p95']:6.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    args = parser.parse_args()

    url = recreate_database(sibling_url("_bench_runs"))
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trellis.settings")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.pop("REDIS_URL", None)
    try:
        run_bench(args.runs)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(url)


def run_bench(total: int) -> None:
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's "testserver" host
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    call_command("migrate", verbosity=0)

    from accounts.services import membership_add, user_create, workspace_create
    from builder.models import Workflow
    from runs import selectors

    owner = user_create(email="bench-owner@example.com", password="bench-Password-1")
    workspace = workspace_create(name="Bench", owner=owner)
    viewer = user_create(email="bench-viewer@example.com", password="bench-Password-1")
    membership_add(workspace=workspace, user=viewer, role="viewer")
    other_owner = user_create(email="bench-other@example.com", password="bench-Password-1")
    other = workspace_create(name="Other", owner=other_owner)
    graph = {"format": "trellis.graph/1", "nodes": [], "edges": []}
    workflows = [
        Workflow.objects.create(workspace=workspace, name=f"Flow {i}", draft_graph=graph, created_by=owner)
        for i in range(5)
    ]
    noise = Workflow.objects.create(workspace=other, name="Noise", draft_graph=graph, created_by=other_owner)

    # One INSERT … SELECT generate_series: 90 days of runs, 2 % failed, a tenth of them in another workspace.
    started = time.perf_counter()
    ids = [str(w.pk) for w in workflows]
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO runs_run (id, workspace_id, workflow_id, graph, is_draft, status, input, trigger,
                                  created_at, started_at, finished_at, timings, usage, cancel_requested,
                                  last_seq, step_counter, callback_url, recoveries, redispatches)
            SELECT gen_random_uuid(),
                   CASE WHEN g %% 10 = 0 THEN %(other_ws)s::uuid ELSE %(ws)s::uuid END,
                   CASE WHEN g %% 10 = 0 THEN %(noise)s::uuid ELSE (%(wfs)s::uuid[])[1 + g %% 5] END,
                   '{"format": "trellis.graph/1", "nodes": [], "edges": []}'::jsonb,
                   false,
                   CASE WHEN g %% 50 = 7 THEN 'failed' WHEN g %% 97 = 3 THEN 'waiting' ELSE 'succeeded' END,
                   jsonb_build_object('message', 'hello ' || g),
                   CASE WHEN g %% 3 = 0 THEN '{"type": "webhook"}'::jsonb ELSE '{"type": "api"}'::jsonb END,
                   now() - (g * interval '77 seconds'),
                   now() - (g * interval '77 seconds'),
                   now() - (g * interval '77 seconds') + interval '2 seconds',
                   '{}'::jsonb,
                   '{"input_tokens": 120, "output_tokens": 40, "cost_usd": 0.0004}'::jsonb,
                   false, 6, 3, '', 0, 0
            FROM generate_series(1, %(n)s) AS g
            """,
            {"ws": str(workspace.pk), "other_ws": str(other.pk), "noise": str(noise.pk), "wfs": ids, "n": total},
        )
        cur.execute("ANALYZE runs_run")
    print(f"inserted {total:,} runs in {time.perf_counter() - started:.1f} s")

    client = Client()
    client.force_login(viewer)
    headers = {"HTTP_X_TRELLIS_WORKSPACE": workspace.slug}

    def get(path: str) -> dict:
        response = client.get(path, **headers)
        assert response.status_code == 200, response.content[:300]
        return response.json()

    get("/api/v1/runs?limit=1")  # warm up URL resolver, DRF, the session
    cases = [
        ("first page", f"/api/v1/runs?limit={PAGE}"),
        ("status=failed (2 %)", f"/api/v1/runs?status=failed&limit={PAGE}"),
        ("workflow=<one of 5>", f"/api/v1/runs?workflow={workflows[2].pk}&limit={PAGE}"),
        ("workflow + status=failed", f"/api/v1/runs?workflow={workflows[2].pk}&status=failed&limit={PAGE}"),
        ("per-workflow endpoint", f"/api/v1/workflows/{workflows[1].pk}/runs?limit={PAGE}"),
        ("'to' date 30 days back", f"/api/v1/runs?limit={PAGE}&until={days_ago(30)}"),
        ("trigger=webhook (a third)", f"/api/v1/runs?limit={PAGE}&trigger=webhook"),
    ]
    for label, path in cases:
        rows = len(get(path)["results"])
        t = timed(lambda path=path: get(path))
        show(label, rows, t)

    # A page deep in the history: walk the cursor 400 pages back (20,000 runs), then time that page.
    cursor = None
    for _ in range(400):
        cursor = get(f"/api/v1/runs?limit={PAGE}" + (f"&cursor={cursor}" if cursor else ""))["next_cursor"]
    deep = f"/api/v1/runs?limit={PAGE}&cursor={cursor}"
    t = timed(lambda: get(deep))
    show("page 401 (keyset cursor)", PAGE, t)

    # The usage screen's aggregation (runs/usage_apis.py) over the same runs, called directly because its
    # URL module may not be mounted.
    from runs.usage_apis import usage_report

    t = timed(lambda: usage_report(workspace_id=workspace.pk, days=30), rounds=5)
    print(f"usage_report, 30 days: first {t['first']:.1f} ms, median {t['median']:.1f} ms")

    # The plans, so that a regression to a sequential scan is visible at a glance.
    for label, kwargs in [
        ("first page", {}),
        ("status=failed", {"status": "failed"}),
        ("workflow + status", {"workflow_id": workflows[2].pk, "status": "failed"}),
    ]:
        qs = selectors.run_queryset().filter(workspace_id=workspace.pk)
        if "workflow_id" in kwargs:
            qs = qs.filter(workflow_id=kwargs["workflow_id"])
        if "status" in kwargs:
            qs = qs.filter(status__in=[kwargs["status"]])
        plan = qs.order_by("-created_at", "-id")[: PAGE + 1].explain(analyze=True)
        nodes = [line.strip() for line in plan.splitlines() if "Scan" in line or "Execution Time" in line]
        print(f"plan, {label}: " + " | ".join(nodes))
    load = os.getloadavg()[0]
    print(f"database: PostgreSQL, {total:,} runs; load average {load:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
