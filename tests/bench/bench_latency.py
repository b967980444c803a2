"""The latency benchmark (issue 20): how long a lone, everyday upload waits to sit on its stack.

Run: ``python -m tests.bench.bench_latency [--samples 8] [--latency-s 0.08]`` (``--help`` for the
rest); ``make bench`` runs it with the other benchmarks.

**The set-up.** The whole service on real processes (:class:`~service.launcher.LocalStack`:
redis-server, the sandbox, the webhook service, ``--workers`` RQ workers), the sandbox with
Frame.io's rate limits unscaled (a minute is a minute) and ``--latency-s`` (80 ms) added to
every API call; a file is transcoded (``file.ready``) ``TRANSCODE_DELAY_S`` after its upload.
The reconciliation sweep is off (it fires on wall-clock boundaries).

**The uploads** come one at a time, never in a burst: each waits until the previous one's wanted
state showed and the service is idle (every delivery made, the queue empty), then ``--gap-s``
more (longer than the coalescing window). For each of ``--samples`` shots ``sh0N0_comp``:

* ``v001`` alone (set-up, not timed: a single version stays a loose file);
* ``stack``: ``v003`` makes a stack of the two, ``v003`` on top;
* ``top``: ``v004`` goes into the existing stack, on top;
* ``older``: ``v002``, uploaded after newer ones, lands inside the stack below them.

**Latency**: from just before the upload request to the first read of the folder
(``GET /_sandbox/tree``, polled every ``POLL_S``) that shows the wanted stack, top first. A
person looking at Frame.io sees the same moment.

**The floor** of a case is the API calls it needs times the per-call latency: the webhook names
a file only, so ``show_file`` (its name and folder) and ``list_folder_children`` (its group) come
first; ``stack`` then needs one ``create_stack``; ``top`` and ``older`` a ``list_stack_children``
(the stack's order, to plan the move), a ``move_file`` and one ``reorder`` (where a moved file lands
is undocumented; once a read-back showed it, the reorder follows the move without a read first). A
drain that finds the folder's listing left by the last drain of the account (``workers/ingest/kept.py``)
reads its newest page instead of ``show_file`` and the whole listing: a call under the floor.

**Runs**: autostack as configured (the account inbox and its drain), then the baseline, the
per-file path (``AUTOSTACK_INBOX=false``: a job per delivery), each on a fresh stack. The report
gives p50, p90 and max per case and run, the floor, the calls made per upload, the machine's load,
and one ``RESULT {json}`` line. The goal (issue 20): p50 <= 0.6 s and max <= 1 s in every case.
Exit status 1 when a run does not reach a wanted state within ``--timeout``; 3 with
``--strict-goals`` when a goal is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from service.launcher import LocalStack
from service.processes import wait_until
from workers.naming.parser import DEFAULT_RULES, Parsed, parse

LATENCY_S = 0.08
TRANSCODE_DELAY_S = 1.0
POLL_S = 0.02
GAP_S = 2.5
#: What each case needs, in calls (see the module docstring).
CASE_CALLS = {
    "stack": ("show_file", "list_folder_children", "create_stack"),
    "top": ("show_file", "list_folder_children", "move_file", "list_stack_children", "reorder_stack"),
    "older": ("show_file", "list_folder_children", "move_file", "list_stack_children", "reorder_stack"),
}
#: Per shot: (case or "" for the untimed set-up, version uploaded, the stack wanted, top first).
SEQUENCE = (("", 1, ()), ("stack", 3, (3, 1)), ("top", 4, (4, 3, 1)), ("older", 2, (4, 3, 2, 1)))
GOAL_P50_S = 0.6
GOAL_MAX_S = 1.0


def name_of(shot: int, version: int) -> str:
    return f"sh{(shot + 1) * 10:03d}_comp_v{version:03d}.exr"


@dataclass
class Run:
    label: str  # autostack | baseline
    env: dict[str, str]
    latencies: dict[str, list[float]] = field(default_factory=dict)
    calls: dict[str, Counter[str]] = field(default_factory=dict)  # case -> endpoint -> calls
    load: list[float] = field(default_factory=list)


class Latency:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args

    def run(self, label: str, env: dict[str, str]) -> Run:
        result = Run(label, env, load=[os.getloadavg()[0]])
        config = {"latency_s": self.args.latency_s, "transcode_delay_s": TRANSCODE_DELAY_S}
        stack = LocalStack.start(workers=self.args.workers, sandbox_config=config, env=env)
        try:
            folder_id = stack.create_folder("dailies")
            for case, version, wanted in SEQUENCE:
                for shot in range(self.args.samples):
                    self._one(
                        stack, result, folder_id, case, name_of(shot, version), [name_of(shot, v) for v in wanted]
                    )
        finally:
            stack.stop()
        result.load.append(os.getloadavg()[0])
        return result

    def _one(self, stack: LocalStack, result: Run, folder_id: str, case: str, name: str, wanted: list[str]) -> None:
        httpx.post(f"{stack.sandbox_url}/_sandbox/calls/reset", timeout=10).raise_for_status()
        started = time.monotonic()
        stack.upload(folder_id, name)
        if wanted:
            shown = _shows(stack, folder_id, wanted)
            wait_until(shown, self.args.timeout, interval=POLL_S, what=f"{name} to sit in its stack ({result.label})")
            result.latencies.setdefault(case, []).append(time.monotonic() - started)
        stack.wait_idle(self.args.timeout, expected_deliveries=len(stack.uploaded) * 2)
        if case:
            result.calls.setdefault(case, Counter()).update(_calls(stack))
        time.sleep(self.args.gap_s)  # spacing: the next upload comes alone, after a quiet spell


def _shows(stack: LocalStack, folder_id: str, wanted: list[str]) -> Callable[[], bool]:
    def shown() -> bool:
        response = httpx.get(f"{stack.sandbox_url}/_sandbox/tree", params={"folder_id": folder_id}, timeout=10)
        stacks = response.json()["stacks"]
        return any([child["name"] for child in found["children"]] == wanted for found in stacks)

    return shown


def _calls(stack: LocalStack) -> Counter[str]:
    response = httpx.get(f"{stack.sandbox_url}/_sandbox/calls", timeout=10)
    response.raise_for_status()
    made: Counter[str] = Counter()
    for row in response.json()["calls"]:
        made[row["endpoint"]] += int(row["count"])
    return made


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in (0, 1])."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.4999) - 1))]


def summary(run: Run, samples: int, latency_s: float) -> dict[str, Any]:
    cases = {}
    for case, values in run.latencies.items():
        calls = run.calls.get(case, Counter())
        cases[case] = {
            "p50_s": round(statistics.median(values), 3),
            "p90_s": round(percentile(values, 0.9), 3),
            "max_s": round(max(values), 3),
            "floor_s": round(len(CASE_CALLS[case]) * latency_s, 3),
            "calls_per_upload": round(sum(calls.values()) / samples, 2),
            "calls_by_endpoint": {endpoint: round(n / samples, 2) for endpoint, n in sorted(calls.items())},
        }
    return {"variant": run.label, "cases": cases, "load_1m": run.load}


def goals(record: dict[str, Any]) -> list[tuple[str, bool]]:
    return [
        (
            f"{case}: p50 {c['p50_s']:.3f} s <= {GOAL_P50_S} s, max {c['max_s']:.3f} s <= {GOAL_MAX_S} s",
            c["p50_s"] <= GOAL_P50_S and c["max_s"] <= GOAL_MAX_S,
        )
        for case, c in record["cases"].items()
    ]


def _print(records: Sequence[dict[str, Any]]) -> None:
    _say(f"\n  {'run':<11}{'case':<8}{'p50':>8}{'p90':>8}{'max':>8}{'floor':>8}{'calls':>7}  calls by endpoint")
    for record in records:
        for case, c in record["cases"].items():
            spread = ", ".join(f"{endpoint} {n:g}" for endpoint, n in c["calls_by_endpoint"].items())
            _say(
                f"  {record['variant']:<11}{case:<8}{c['p50_s']:>7.3f}s{c['p90_s']:>7.3f}s{c['max_s']:>7.3f}s"
                f"{c['floor_s']:>7.3f}s{c['calls_per_upload']:>7.2f}  {spread}"
            )
        load = record["load_1m"]
        _say(
            f"  {record['variant']:<11}machine load (1-min average): "
            f"{load[0]:.2f} before, {load[-1]:.2f} after (2 CPUs)"
        )


def _say(text: str) -> None:
    print(text, flush=True)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--samples", type=int, default=8, help="shots, each timed once per case")
    parser.add_argument("--latency-s", type=float, default=LATENCY_S, help="added to every sandbox API call")
    parser.add_argument("--gap-s", type=float, default=GAP_S, help="quiet seconds before each upload")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-baseline", dest="baseline", action="store_false", help="skip the per-file baseline")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds an upload may take to show")
    parser.add_argument(
        "--env", action="append", default=[], metavar="NAME=VALUE", help="an autostack setting for the autostack run"
    )
    parser.add_argument("--strict-goals", action="store_true", help="exit 3 when a goal is missed")
    args = parser.parse_args(argv)
    if args.samples < 1 or args.workers < 1:
        parser.error("--samples and --workers must be at least 1")
    if any("=" not in item for item in args.env):
        parser.error("--env takes NAME=VALUE")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    names = [name_of(shot, version) for shot in range(args.samples) for _, version, _ in SEQUENCE]
    assert all(isinstance(parse(name, DEFAULT_RULES), Parsed) for name in names), "a bench name does not parse"
    _say(
        f"latency bench: {args.samples} shots x {len(SEQUENCE)} lone uploads, {args.gap_s:g} s apart; "
        f"rate limits unscaled, latency {args.latency_s * 1000:.0f} ms a call, {args.workers} worker(s)"
    )
    settings = dict(item.split("=", 1) for item in args.env)
    variants = [("autostack", {"AUTOSTACK_SWEEP_INTERVAL_S": "0", **settings})]
    if args.baseline:
        variants.append(("baseline", {"AUTOSTACK_SWEEP_INTERVAL_S": "0", "AUTOSTACK_INBOX": "false"}))
    records = []
    try:
        for label, env in variants:
            _say(f"run: {label} {' '.join(f'{k}={v}' for k, v in env.items())}")
            records.append(summary(Latency(args).run(label, env), args.samples, args.latency_s))
    except TimeoutError as exc:
        _say(f"FAILED: {exc}")
        return 1
    _print(records)
    verdicts = goals(records[0])
    _say("goals (autostack)")
    for text, met in verdicts:
        _say(f"  {'MET ' if met else 'MISS'} {text}")
    result = {"bench": "latency", "latency_s": args.latency_s, "samples": args.samples, "workers": args.workers}
    result |= {"env": settings, "runs": records, "goals_met": all(met for _, met in verdicts)}
    _say("RESULT " + json.dumps(result))
    return 3 if args.strict_goals and not all(met for _, met in verdicts) else 0


if __name__ == "__main__":
    sys.exit(main())
