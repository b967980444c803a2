"""The recovery benchmark (issue 19): after one fault, how soon does stacking move again?

Run: ``python -m tests.bench.bench_recovery [--faults scheduler_owner,other_worker,web,redis,frameio_503]``
(``--help`` for the rest); ``make bench`` runs it with the other benchmarks.

**The set-up**, per fault kind, on a fresh LocalStack (so runs share no state): a redis-server
of its own with AOF on (``appendfsync everysec``, as deployed), the sandbox, the web tier and
``--workers`` (3) workers; the periodic sweep is off (``AUTOSTACK_SWEEP_INTERVAL_S=0``, its
5-minute boundaries would land by chance); everything else is autostack's defaults. The sandbox
answers every call after ``LATENCY_S``, retries a webhook on the scale ``DELIVERY_TIME_SCALE``
(its retries come ten times sooner than Frame.io's), and enforces Frame.io's documented limits
with every window scaled by ``WINDOW_SCALE`` (as the burst benchmark does; autostack's limiter is
told the same): at Frame.io's real 10 creates a minute a pair a second would outrun the limit and
every run would measure the backlog, not the recovery.

**The trickle**: one upload every ``--interval`` (0.5 s) into one folder, groups of two versions
(``rcv0001_comp_v001.mov`` then ``..._v002.mov``): each pair is one stack once both are in.

**The supervisor**: the benchmark plays Kubernetes. A worker or the web tier that has exited is
started again ``RESTART_S`` (1 s) later; a SIGKILLed Redis is started again at once, on the
same port and data directory.

**One fault** ``--warmup`` (12 s) after the trickle began:

* ``scheduler_owner``: SIGKILL (with its work horse and its scheduler) the worker that moves due
  jobs: the holder of RQ's scheduler lock, or of autostack's own lease where RQ's scheduler is
  not used;
* ``other_worker``: SIGKILL a worker that is not that one, in the middle of a job if one is
  busy within ``BUSY_WAIT_S`` (the report says whether it was);
* ``busy_worker``: SIGKILL a worker in the middle of a job, the mover or not (the account's
  drain keeps one worker busy most of the time, often the mover itself, so ``other_worker``
  mostly finds only idle ones);
* ``web``: SIGKILL the web tier (uvicorn);
* ``redis``: SIGKILL redis-server and start it again;
* ``frameio_503``: the sandbox answers every API call with 503 for ``OUTAGE_S`` (10 s).

**Measured**, from the sandbox's own tree (sampled every 0.25 s), wall clock from the fault:

* ``first_write_s``: the first file stacked after the fault;
* ``stall_s``: the longest span in the ``--after`` (30 s) after the fault in which no file was
  stacked while a file accepted (its webhook answered 2xx) waited; the goal's "progress resumes";
* ``all_stacked_s``: when the last file accepted before the fault was stacked (a v1 whose v2 came
  after the fault counts from its pair's arrival: it cannot be stacked alone);
* ``unstacked``: pairs both of whose webhooks were answered 2xx that are not one stack when the
  run ends (``--settle`` after the trickle stopped); ``duplicates``: a file in two stacks.

**Goals** (issue 19), judged from the measurements: ``stall_s`` <= 10 s, ``all_stacked_s`` <= 30 s,
every accepted pair stacked, nothing twice. Where Frame.io failed, both are counted from the end of its outage
plus Frame.io's own wait: a job that got a 5xx waits the retry policy's 30 s before it asks
again (``FRAMEIO_WAIT_S``). One ``RESULT {json}`` line per fault kind. Exit status 1 when a run
broke off or stacked something twice; 3 with ``--strict-goals`` when a goal is missed; else 0.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis
from rq import Queue, Worker

from service.launcher import LocalStack
from service.processes import Child, autostack_argv, spawn, wait_until
from tests.bench.bench_burst import _setting
from tests.e2e.fault_tools import OwnRedis, add_fault, clear_faults, kill_hard

FAULTS = ("scheduler_owner", "other_worker", "busy_worker", "web", "redis", "frameio_503")
LATENCY_S = 0.02
WINDOW_SCALE = 2 / 60
DELIVERY_TIME_SCALE = 0.1
TRANSCODE_DELAY_S = 1.0
RESTART_S = 1.0
OUTAGE_S = 10.0
FRAMEIO_WAIT_S = 30.0
GOAL_RESUME_S = 10.0
GOAL_ALL_S = 30.0
SAMPLE_S = 0.25  # the sampler's polling interval (a benchmark, not a test)
BUSY_WAIT_S = 10.0  # how long other_worker looks for a worker in the middle of a job
#: autostack's own lease on moving due jobs (when RQ's scheduler is not used): its holder's name.
DUE_LEASE_PREFIX = "autostack:due-lease:"


def _say(text: str) -> None:
    print(text, flush=True)


# -- the run's parts -------------------------------------------------------------------------------


def in_thread(target: Callable[[], None], name: str) -> threading.Thread:
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


@dataclass
class Trickle:
    """Uploads a version every ``interval`` seconds from its own thread; remembers when."""

    stack: LocalStack
    folder_id: str
    interval: float
    uploaded: dict[str, tuple[str, float]] = field(default_factory=dict)  # file id -> (group, time)
    stopped: threading.Event = field(default_factory=threading.Event)
    errors: int = 0

    def run(self) -> None:
        number = 0
        with httpx.Client(base_url=self.stack.sandbox_url, timeout=10) as client:
            while not self.stopped.wait(self.interval):
                group, version = divmod(number, 2)
                name = f"rcv{group + 1:04d}_comp_v{version + 1:03d}.mov"
                try:
                    answer = client.post("/_sandbox/upload", json={"folder_id": self.folder_id, "name": name})
                    answer.raise_for_status()
                except httpx.HTTPError:
                    self.errors += 1
                    continue
                self.uploaded[str(answer.json()["data"]["id"])] = (f"rcv{group + 1:04d}", time.time())
                number += 1


@dataclass
class Sampler:
    """Reads the folder's tree from the sandbox every ``SAMPLE_S``: when each file was first seen
    in a stack, and the last tree."""

    stack: LocalStack
    folder_id: str
    stacked_at: dict[str, float] = field(default_factory=dict)
    tree: dict[str, Any] = field(default_factory=dict)
    stopped: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stopped.wait(SAMPLE_S):
            try:
                tree = self.stack.tree(self.folder_id)
            except httpx.HTTPError:
                continue
            now = time.time()
            for item in tree["stacks"]:
                for child in item["children"]:
                    self.stacked_at.setdefault(str(child["id"]), now)
            self.tree = tree


@dataclass
class Supervisor:
    """Starts an exited worker or web tier again ``RESTART_S`` later, as Kubernetes would."""

    stack: LocalStack
    env: dict[str, str]
    restarts: list[str] = field(default_factory=list)
    stopped: threading.Event = field(default_factory=threading.Event)
    counter: int = 100

    def run(self) -> None:
        dead_since: dict[int, float] = {}
        while not self.stopped.wait(0.2):
            for child in list(self.stack.workers):
                if child.alive():
                    continue
                since = dead_since.setdefault(id(child), time.monotonic())
                if time.monotonic() - since >= RESTART_S:
                    self.stack.workers.remove(child)
                    self.stack.workers.append(self._spawn_worker())
                    self.restarts.append(child.name)

    def _spawn_worker(self) -> Child:
        self.counter += 1
        name = f"worker-{self.counter}"
        argv = autostack_argv("worker", "--name", f"{name}-{os.getpid()}")
        return spawn(name, argv, {**self.stack.env(), **self.env}, self.stack.workdir)


# -- finding the one that moves due jobs ------------------------------------------------------------


def due_mover(stack: LocalStack) -> Child | None:
    """The worker process that moves due jobs now: RQ's scheduler lock names a scheduler whose
    process is a worker's child; autostack's own lease names the worker."""
    client = stack.redis()
    try:
        pids = _mover_pids(client, stack.queue_name)
    finally:
        client.close()
    for child in stack.workers:
        if child.alive() and child.process.pid in pids:
            return child
    return None


def _mover_pids(client: redis.Redis, queue_name: str) -> set[int]:
    pids: set[int] = set()
    holder = _text(client.get(f"rq:scheduler-lock:{queue_name}"))
    if holder:
        pid = client.hget(f"rq:scheduler:{holder}", "pid")
        if pid:
            pids |= {int(pid), _parent(int(pid))}
    name = _text(client.get(f"{DUE_LEASE_PREFIX}{queue_name}"))
    if name:
        worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + name, connection=client)
        if worker is not None and worker.pid:
            pids.add(int(worker.pid))
    return pids


def busy_worker(stack: LocalStack, mover: Child | None, within_s: float = BUSY_WAIT_S) -> Child | None:
    """A worker other than the mover that is running a job (a drain, most often), polled for up
    to ``within_s``: a worker killed mid-job is the case whose job must be found and run again."""
    deadline = time.monotonic() + within_s
    client = stack.redis()
    try:
        while time.monotonic() < deadline:
            by_pid = {c.process.pid: c for c in stack.workers if c.alive() and c is not mover}
            queue = Queue(stack.queue_name, connection=client)
            for worker in Worker.all(queue=queue):
                if worker.pid in by_pid and worker.get_state() == "busy":
                    return by_pid[worker.pid]
            time.sleep(0.02)  # polling for a busy moment (a benchmark's schedule, not a test)
    finally:
        client.close()
    return None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


# -- one run ---------------------------------------------------------------------------------------


@dataclass
class Outcome:
    fault: str
    fault_at: float = 0.0
    resume_from: float = 0.0  # where the goals count from (the fault, or the end of Frame.io's outage)
    accepted_before: int = 0
    first_write_s: float | None = None
    stall_s: float = 0.0
    all_stacked_s: float | None = None
    unstacked: int = 0
    duplicates: int = 0
    restarts: int = 0
    victim: str = ""
    error: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def accepted_files(stack: LocalStack) -> set[str]:
    """Files whose ``file.upload.completed`` webhook the service answered with a 2xx."""
    items = stack.deliveries()
    return {
        str(item["resource_id"])
        for item in items
        if item.get("event_type") == "file.upload.completed"
        and any(200 <= int(attempt.get("status_code") or 0) < 300 for attempt in item.get("attempts", []))
    }


class Recovery:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args

    def run(self, fault: str) -> Outcome:
        outcome = Outcome(fault)
        workdir = Path(tempfile.mkdtemp(prefix=f"autostack-recovery-{fault}-"))
        own = OwnRedis(workdir / "redis").start()
        env = {"AUTOSTACK_SWEEP_INTERVAL_S": "0", "AUTOSTACK_RATE_WINDOW_SCALE": f"{WINDOW_SCALE:.6f}"}
        env.update(dict(self.args.env))
        config = {
            "latency_s": LATENCY_S,
            "rate_window_scale": WINDOW_SCALE,
            "delivery_time_scale": DELIVERY_TIME_SCALE,
            "transcode_delay_s": TRANSCODE_DELAY_S,
        }
        stack = LocalStack.start(
            workers=self.args.workers, sandbox_config=config, env=env, redis_url=own.url, workdir=workdir
        )
        supervisor = Supervisor(stack, env)
        threads: list[tuple[threading.Event, threading.Thread]] = []
        try:
            folder_id = stack.create_folder(f"recovery-{fault}")
            trickle, sampler = Trickle(stack, folder_id, self.args.interval), Sampler(stack, folder_id)
            for part, name in ((trickle, "trickle"), (sampler, "sampler"), (supervisor, "supervisor")):
                threads.append((part.stopped, in_thread(part.run, name)))
            time.sleep(self.args.warmup)  # the trickle runs before the fault (a benchmark's schedule)
            before = accepted_files(stack)
            outcome.fault_at = time.time()
            outcome.victim = self._inject(fault, stack, own, env)
            outcome.resume_from = time.time() if fault == "frameio_503" else outcome.fault_at
            time.sleep(max(0.0, outcome.fault_at + self.args.after - time.time()))
            trickle.stopped.set()
            self._settle(stack, sampler, trickle, before, outcome)
            self._measure(stack, sampler, trickle, before, outcome)
        except (httpx.HTTPError, OSError, redis.RedisError, TimeoutError, RuntimeError) as exc:
            outcome.error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        finally:
            for stopped, thread in threads:
                stopped.set()
                thread.join(10)
            outcome.restarts = len(supervisor.restarts)
            stack.stop()
            own.stop()
        return outcome

    def _inject(self, fault: str, stack: LocalStack, own: OwnRedis, env: dict[str, str]) -> str:
        if fault in ("scheduler_owner", "other_worker", "busy_worker"):
            mover = due_mover(stack)
            busy = None
            if fault != "scheduler_owner":
                busy = busy_worker(stack, mover if fault == "other_worker" else None)
            victim = mover if fault == "scheduler_owner" else busy
            victim = victim or next((c for c in stack.workers if c.alive() and c is not mover), None)
            if victim is None or (fault == "scheduler_owner" and mover is None):
                raise RuntimeError(f"no worker to kill for {fault} (mover: {mover and mover.name})")
            kill_hard(victim)
            busy_label = " (mid-job)" if busy is not None else ""
            return victim.name + busy_label + (" (the mover)" if victim is mover else "")
        if fault == "web":
            service = next(child for child in stack.children if child.name == "service")
            service.signal(signal.SIGKILL)
            service.process.wait(10)
            stack.children.remove(service)
            time.sleep(RESTART_S)  # the supervisor's restart delay
            stack._start_service(env)
            return "service"
        if fault == "redis":
            own.kill()
            own.start()
            return "redis-server"
        add_fault(stack, "*", "status", status=503, count=1_000_000)
        time.sleep(OUTAGE_S)  # the outage's length
        clear_faults(stack)
        return "frameio"

    def _settle(
        self, stack: LocalStack, sampler: Sampler, trickle: Trickle, before: set[str], outcome: Outcome
    ) -> None:
        """Until every accepted pair is stacked (or the deadline)."""

        def done() -> bool:
            pairs = _pairs(trickle, accepted_files(stack))
            return all(all(f in sampler.stacked_at for f in files) for files in pairs.values())

        try:
            wait_until(done, self.args.settle, interval=0.5, what="every accepted pair stacked")
        except TimeoutError as exc:
            outcome.extra["settle"] = str(exc)

    def _measure(
        self, stack: LocalStack, sampler: Sampler, trickle: Trickle, before: set[str], outcome: Outcome
    ) -> None:
        accepted = accepted_files(stack)
        pairs = _pairs(trickle, accepted)
        times = dict(sampler.stacked_at)
        start = outcome.resume_from
        after = sorted(at for at in times.values() if at > outcome.fault_at)
        outcome.first_write_s = after[0] - outcome.fault_at if after else None
        # When each accepted-before file could first be stacked: its pair's later upload.
        ready: dict[str, float] = {}
        for files in pairs.values():
            arrived = max(trickle.uploaded[f][1] for f in files)
            ready.update({file_id: arrived for file_id in files if file_id in before})
        outcome.accepted_before = len(ready)
        missing = [f for f in ready if f not in times]
        outcome.all_stacked_s = None if missing else max([times[f] - start for f in ready] + [0.0])
        outcome.stall_s = _longest_stall(times, ready, outcome.fault_at, outcome.fault_at + self.args.after)
        tree = sampler.tree or stack.tree(sampler.folder_id)
        outcome.unstacked, outcome.duplicates = _verify(tree, pairs)
        outcome.extra["unstacked_examples"] = _where(tree, pairs, trickle)[:3]
        outcome.extra["trickle_errors"] = trickle.errors
        outcome.extra["uploaded"] = len(trickle.uploaded)


def _pairs(trickle: Trickle, accepted: set[str]) -> dict[str, list[str]]:
    """Groups both of whose uploads were accepted: group -> its two file ids."""
    groups: dict[str, list[str]] = {}
    for file_id, (group, _) in list(trickle.uploaded.items()):
        groups.setdefault(group, []).append(file_id)
    return {g: ids for g, ids in groups.items() if len(ids) == 2 and all(i in accepted for i in ids)}


def _longest_stall(times: dict[str, float], ready: dict[str, float], start: float, end: float) -> float:
    """The longest span within [start, end] with no file stacked while some file was waiting (ready
    before the span began and not yet stacked)."""
    writes = sorted(at for at in times.values() if start < at <= end)
    marks = [start, *writes]
    longest = 0.0
    for index, at in enumerate(marks):
        following = writes[index] if index < len(writes) else end
        waiting = [f for f, r in ready.items() if r <= at and times.get(f, float("inf")) > at]
        if waiting or index < len(writes):
            longest = max(longest, following - at)
    return longest


def _verify(tree: dict[str, Any], pairs: dict[str, list[str]]) -> tuple[int, int]:
    """(pairs not one stack of exactly their two files, files in more than one stack)."""
    stacks = [sorted(str(child["id"]) for child in item["children"]) for item in tree.get("stacks", [])]
    seen: dict[str, int] = {}
    for members in stacks:
        for file_id in members:
            seen[file_id] = seen.get(file_id, 0) + 1
    unstacked = sum(1 for files in pairs.values() if sorted(files) not in stacks)
    duplicates = sum(1 for count in seen.values() if count > 1)
    return unstacked, duplicates


def _where(tree: dict[str, Any], pairs: dict[str, list[str]], trickle: Trickle) -> list[str]:
    """For pairs not stacked together: the group, and where each of its files is (evidence)."""
    place = {str(item["id"]): "loose" for item in tree.get("files", [])}
    for item in tree.get("stacks", []):
        for child in item["children"]:
            place[str(child["id"])] = f"in a stack of {len(item['children'])}"
    stacks = [sorted(str(child["id"]) for child in item["children"]) for item in tree.get("stacks", [])]
    found = []
    for group, files in sorted(pairs.items()):
        if sorted(files) not in stacks:
            uploaded = ", ".join(f"{place.get(f, 'absent')} (uploaded {trickle.uploaded[f][1]:.1f})" for f in files)
            found.append(f"{group}: {uploaded}")
    return found


# -- report -------------------------------------------------------------------------------------------


def goals_of(outcome: Outcome) -> dict[str, bool]:
    resume_goal = GOAL_RESUME_S + (FRAMEIO_WAIT_S + OUTAGE_S if outcome.fault == "frameio_503" else 0.0)
    all_goal = GOAL_ALL_S + (FRAMEIO_WAIT_S if outcome.fault == "frameio_503" else 0.0)
    return {
        f"progress resumes within {resume_goal:g} s": outcome.stall_s <= resume_goal,
        f"all accepted before stacked within {all_goal:g} s": outcome.all_stacked_s is not None
        and outcome.all_stacked_s <= all_goal,
        "every accepted pair stacked, nothing twice": outcome.unstacked == 0 and outcome.duplicates == 0,
    }


def report(outcome: Outcome) -> dict[str, Any]:
    goals = goals_of(outcome)
    first = "-" if outcome.first_write_s is None else f"{outcome.first_write_s:.1f} s"
    every = "not all" if outcome.all_stacked_s is None else f"{outcome.all_stacked_s:.1f} s"
    _say(
        f"  {outcome.fault}: killed/failed {outcome.victim or '-'}; first stack written after {first}; "
        f"longest stall {outcome.stall_s:.1f} s; the {outcome.accepted_before} files accepted before it "
        f"stacked after {every}; unstacked pairs {outcome.unstacked}, twice {outcome.duplicates}; "
        f"restarts {outcome.restarts}" + (f"; ERROR {outcome.error}" if outcome.error else "")
    )
    for goal, met in goals.items():
        _say(f"    {'MET ' if met else 'MISS'} {goal}")
    record = {
        "bench": "recovery",
        "fault": outcome.fault,
        "first_write_s": _round(outcome.first_write_s),
        "stall_s": round(outcome.stall_s, 2),
        "all_stacked_s": _round(outcome.all_stacked_s),
        "accepted_before": outcome.accepted_before,
        "unstacked": outcome.unstacked,
        "duplicates": outcome.duplicates,
        "restarts": outcome.restarts,
        "goals_met": all(goals.values()),
        "error": outcome.error,
        **outcome.extra,
    }
    _say("RESULT " + json.dumps(record, sort_keys=True))
    return record


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


# -- main ------------------------------------------------------------------------------------------


def _faults(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in FAULTS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"a comma list of: {', '.join(FAULTS)}")
    return names


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--faults", type=_faults, default=list(FAULTS), help=f"any of {','.join(FAULTS)}")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between two uploads")
    parser.add_argument("--warmup", type=float, default=12.0, help="seconds of trickle before the fault")
    parser.add_argument("--after", type=float, default=30.0, help="seconds of trickle after the fault")
    parser.add_argument("--settle", type=float, default=90.0, help="seconds to wait for every pair at the end")
    parser.add_argument("--env", type=_setting, action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--strict-goals", action="store_true", help="exit 3 when a goal is missed")
    args = parser.parse_args(argv)
    if args.workers < 2:
        parser.error("--workers must be at least 2 (one fault kills the mover, another a different worker)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    _say(
        f"recovery bench: {args.workers} workers, an upload every {args.interval:g} s, the fault after "
        f"{args.warmup:g} s, measured for {args.after:g} s; faults: {', '.join(args.faults)}"
    )
    records = []
    for fault in args.faults:
        _say(f"\nfault: {fault}")
        records.append(report(Recovery(args).run(fault)))
    broken = [r["fault"] for r in records if r["error"] or r["duplicates"]]
    if broken:
        _say(f"FAILED: {', '.join(broken)}")
        return 1
    if args.strict_goals and not all(r["goals_met"] for r in records):
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
