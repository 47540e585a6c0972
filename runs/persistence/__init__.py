"""The one place that writes Run, Step, RunEvent and Delivery rows.

Everything else reads these models freely but writes them only through this package, so that a column
added to a model is picked up by every write path at once, and the few hand-written statements that the
benchmarks showed to pay (bench/bench_webhooks.py, bench/bench_engine.py) live side by side:

- `sql`: column lists and values from the models' own fields (`Model._meta`), the prepared-statement
  cursor, the commit durability policy;
- `runs`: creating runs (one statement with their first rows), copying a run for a rerun, publishing
  a run event;
- `engine`: the engine's Store (runs/engine/store.py) — the lease on the run row and the per-step commit;
- `webhooks`: the webhook trigger read on every call and the grouped insert of the webhook ingest;
- `deliveries`: the delivery log.
"""
