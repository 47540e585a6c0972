"""The garbage collector's settings for Trellis's long-lived processes: the web process and the workers.

Python's cyclic collector walks its young objects every 700 allocations of containers, and everything from time
to time. A run in flight allocates thousands (a step's scope, the model call's requests and events), and the
objects loaded at start (Django, the apps, the libraries: hundreds of thousands) were walked by every full
collection. Under load that was a large share of the CPU per run, and a full collection paused the whole web
process for ~150 ms every few seconds: the default mode's p99 (bench/bench_default_tail.py,
bench/bench_llm_concurrency.py measure both)."""

from __future__ import annotations

import gc

# Young collections every 20,000 allocations, middle every 20 of those, full every 50 middle ones: cycles are
# still collected, a few times a second under load instead of hundreds.
THRESHOLDS = (20_000, 20, 50)


def settle() -> None:
    """Call once the process has loaded what it serves with: what exists now lives as long as the process, so no
    collection walks it again (gc.freeze), and collections run less often."""
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
