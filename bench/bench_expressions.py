"""Expression benchmark: µs per evaluation of typical expressions, `map` over 10k and 100k items, and how
fast each worst case from the hardening issue is stopped, for Trellis's evaluator and, side by side, the
Rust binding it replaced (`common-expression-language`, installed by requirements-dev.txt).

Run: .venv/bin/python bench/bench_expressions.py   (no database needed). Prints figures, asserts nothing.
"""

import functools
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trellis.settings")
os.environ.setdefault("DATABASE_URL", "sqlite://:memory:")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from builder.expressions import ExpressionError, ExpressionLimitError, evaluate  # noqa: E402

try:
    import cel as rust_cel
    from cel import stdlib as rust_stdlib
except ImportError:  # the dev requirements are not installed: print only our figures
    rust_cel = None

SCOPE = {
    "workflow": {"input": {"message": "Please refund my order #1234", "amount": 120, "tags": ["a", "b", "c"]}},
    "nodes": {"triage": {"output": {"intent": "refund", "confidence": 0.92}}},
    "state": {"attempts": 2},
    "input": {"text": "hello"},
}
TYPICAL = [
    "nodes.triage.output.intent == 'refund' && size(workflow.input.message) > 2",
    "nodes.triage.output.confidence > 0.8 ? 'sure' : 'unsure'",
    "state.attempts + 1",
    "'Hi ' + workflow.input.message.lowerAscii()",
    "{'intent': nodes.triage.output.intent, 'n': size(workflow.input.tags)}",
    "workflow.input.tags.exists(t, t == 'b')",
]
TEN = "[1,2,3,4,5,6,7,8,9,10]"
WORST = {
    "map over 130,000 items (the 930 KB webhook)": ("size(workflow.input.items.map(x, x * 2))", 130_000),
    "7 nested exists (10^7 iterations)": (
        f"{TEN}.exists(a, {TEN}.exists(b, {TEN}.exists(c, {TEN}.exists(d, {TEN}.exists(e, {TEN}.exists(f, "
        f"{TEN}.exists(g, g < 0)))))))",
        0,
    ),
    "6 nested map (10^6 lists)": (
        f"{TEN}.map(a, {TEN}.map(b, {TEN}.map(c, {TEN}.map(d, {TEN}.map(e, {TEN}.map(f, f * 2))))))",
        0,
    ),
    "lists.range(5000000)": ("size(lists.range(5000000))", 0),
    "map inside map over 20,000 items": ("size(workflow.input.items.map(a, workflow.input.items.map(b, b)))", 20_000),
}


def ours(source, scope):
    return evaluate(source, scope)


@functools.lru_cache(maxsize=64)
def _rust_program(source):
    """Compiled once, with the stdlib functions it calls, as builder/expressions.py did before."""
    program = rust_cel.compile(source)
    used = set(program.references()["functions"])
    return program, {name: fn for name, fn in rust_stdlib.STDLIB_FUNCTIONS.items() if name.split(".")[-1] in used}


def rust(source, scope):
    program, functions = _rust_program(source)
    return program.execute(rust_cel.Context(scope, functions) if functions else scope)


def per_eval_us(fn, source, scope, n=20_000) -> float:
    fn(source, scope)
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(n // 5):
            fn(source, scope)
        rounds.append((time.perf_counter() - started) / (n // 5) * 1e6)
    return statistics.median(rounds)


def timed_ms(fn, source, scope) -> tuple[float, str]:
    started = time.perf_counter()
    try:
        result = fn(source, scope)
        outcome = f"= {result}"
    except ExpressionLimitError as exc:
        outcome = f"stopped: {exc.limit} limit"
    except ExpressionError as exc:
        outcome = f"error: {exc.message[:60]}"
    return (time.perf_counter() - started) * 1000, outcome


def main() -> None:
    print("Typical expressions, µs per evaluation (median of 5 rounds):")
    print(f"  {'expression':<78} {'trellis':>8} {'rust cel':>9}")
    for source in TYPICAL:
        before = f"{per_eval_us(rust, source, SCOPE):8.2f}" if rust_cel else "       -"
        print(f"  {source[:78]:<78} {per_eval_us(ours, source, SCOPE):8.2f} {before:>9}")

    print("\nmap(x, x * 2) over N items, ms:")
    for n in (10_000, 20_000, 100_000):
        scope = {"workflow": {"input": {"items": list(range(n))}}}
        source = "size(workflow.input.items.map(x, x * 2))"
        after, _ = timed_ms(ours, source, scope)
        # The old binding is quadratic: 100,000 items would take minutes, so it is not run.
        before = f"{timed_ms(rust, source, scope)[0]:10.1f}" if rust_cel and n <= 20_000 else "  (skipped)"
        print(f"  N={n:>7,}  trellis {after:8.1f}   rust cel {before}")

    print("\nWorst cases with the default limits (cost 10,000,000 units, 100 ms):")
    for label, (source, n) in WORST.items():
        scope = {"workflow": {"input": {"items": list(range(n))}}}
        ms, outcome = timed_ms(ours, source, scope)
        print(f"  {label:<46} {ms:8.1f} ms  {outcome}")


if __name__ == "__main__":
    main()
