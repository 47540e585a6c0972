"""`make bench`: runs every bench/bench_*.py in its own process and prints their figures.

Benchmarks print numbers; they never assert them (CONVENTIONS 17)."""

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    wanted = set(argv)
    failures = 0
    for script in sorted(HERE.glob("bench_*.py")) + sorted(HERE.glob("bench_*.mjs")):
        name = script.stem.removeprefix("bench_")
        if wanted and name not in wanted:
            continue
        print(f"\n=== {script.name} ===", flush=True)
        started = time.monotonic()
        cmd = [sys.executable, str(script)] if script.suffix == ".py" else ["node", str(script)]
        result = subprocess.run(cmd, cwd=HERE.parent)
        print(f"--- {script.name}: exit {result.returncode} in {time.monotonic() - started:.1f}s", flush=True)
        failures += result.returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
