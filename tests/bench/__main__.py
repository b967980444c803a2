"""Run the benchmarks (``make bench``): every ``tests/bench/bench_<name>.py`` that exists, in turn.

``python -m tests.bench`` runs them all in the order of ``ORDER`` (then any other ``bench_*``
module, by name); ``python -m tests.bench burst naming`` runs a subset (``bench_burst`` is
accepted too). Arguments after ``--`` go to every benchmark run, e.g.
``python -m tests.bench burst -- --scale 0.2``. Each benchmark is its own subprocess
(``python -m tests.bench.bench_<name>``), its output printed as it comes; the exit status is 1
when any of them failed (or a named one does not exist), else 0.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = "tests.bench"
ORDER = ("naming", "ingest", "burst", "latency", "accounts", "recovery")


def available() -> list[str]:
    """The benchmarks whose module file exists, in run order."""
    found = {path.stem.removeprefix("bench_") for path in HERE.glob("bench_*.py")}
    return [name for name in ORDER if name in found] + sorted(found - set(ORDER))


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in args:
        at = args.index("--")
        args, extra = args[:at], args[at + 1 :]
    if any(arg in ("-h", "--help") for arg in args):
        print(__doc__)
        print("available:", ", ".join(available()) or "none")
        return 0
    present = available()
    wanted = [arg.removeprefix("bench_") for arg in args] or present
    missing = [name for name in wanted if name not in present]
    if missing:
        print(f"no such benchmark: {', '.join(missing)} (available: {', '.join(present) or 'none'})", flush=True)
        return 1
    results: list[tuple[str, int, float]] = []
    for name in wanted:
        module = f"{PACKAGE}.bench_{name}"
        print(f"=== {module} {' '.join(extra)}".rstrip(), flush=True)
        started = time.monotonic()
        code = subprocess.call([sys.executable, "-m", module, *extra])
        results.append((name, code, time.monotonic() - started))
        print(f"=== {module}: {'ok' if code == 0 else f'FAILED (exit {code})'} in {results[-1][2]:.1f} s", flush=True)
    failed = [name for name, code, _ in results if code != 0]
    summary = ", ".join(
        f"{name} {'ok' if code == 0 else 'FAILED'} ({seconds:.0f} s)" for name, code, seconds in results
    )
    print(f"=== benchmarks: {summary}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
