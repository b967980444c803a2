"""The burst benchmark (issue 6): 1,000 versions and 200 decoys land at once; how close to the floor?

Run: ``python -m tests.bench.bench_burst [--scale 0.2] [--workers 4,8,1] [--no-naive]`` (``--help``
for the rest); ``make bench`` runs it with the other benchmarks.

**The set-up.** The sandbox enforces Frame.io's documented per-endpoint leaky buckets with every
window scaled by ``WINDOW_SCALE`` = 2/60 (a minute becomes 2 s, a second 1/30 s), and autostack's
shared limiter is told the same scale (``AUTOSTACK_RATE_WINDOW_SCALE``). Every API call takes
``LATENCY_S`` = 50 ms; a file is transcoded (``file.ready``) ``TRANSCODE_DELAY_S`` = 1 s after
its upload completed. Each run gets a fresh LocalStack (redis-server, sandbox, service, N
workers), so runs share no state; autostack runs with its defaults otherwise, except that the
reconciliation sweep is off (``AUTOSTACK_SWEEP_INTERVAL_S=0``): it fires on 5-minute wall-clock
boundaries, so whether it lands inside a run would be chance.

**The burst.** ``GROUPS`` = 250 groups of 4 versions plus ``DECOYS`` = 200 decoys (camera
originals, names without a version), 1,200 uploads, shuffled, sent into one folder through
``POST /_sandbox/upload`` from a thread pool; every name is checked against the naming rules
first. Each upload causes two webhook deliveries (``file.upload.completed``, ``file.ready``).
``--scale`` shrinks groups and decoys. The uploads are held back while ``--inflight`` (40) of
them still wait for the service to take their first webhook (:class:`DeliveryGate`): the
sandbox delivers every webhook as its own task on one httpx pool, and once a few hundred wait
there the sandbox's event loop spends itself in the pool's request assignment (quadratic in the
waiting requests) and the API stalls for seconds. With the gate the burst lands in 10-25 s,
as fast as the service takes the webhooks; ``--inflight 0`` sends everything at once.

**Runs**, in this order: autostack with 4, 8 and 1 workers, then the naive baseline with 8 and
with 1 worker (``--naive-workers``): a job per webhook delivery (``AUTOSTACK_INBOX=false``),
``AUTOSTACK_RATE_LIMITER=false`` (no shared limiter), ``AUTOSTACK_COALESCE_WINDOW_S=0`` (no
coalescing), ``AUTOSTACK_LISTING_CACHE_S=0`` (no shared folder listings), so every event is
handled on its own. A run is right when every group is exactly one stack of its 4 versions in
version order (v1 at the bottom, the head the highest) and every decoy is a loose file, with
nothing else in the folder. A run that does not finish in its time limit is wrong too; its
completion time is then a lower bound. The runs share ``--budget`` (900 s): each gets at most
``--timeout`` (480 s) and leaves every later run at least 120 s, so ``make bench`` stays under
17 minutes on a 2-CPU machine (the naive run on one worker takes about 7 of them).

**Completion time**: from the first upload sent to ``LocalStack.wait_idle`` returning (every
expected delivery made; the queue, the running and the scheduled jobs empty), wall clock.

**The lower bound of calls** (a perfect client that knows the whole burst in hindsight):

* ``create_stack``: one per group (a create takes 2 to 10 files in version order, so no move and
  no reorder is ever needed);
* ``show_file``: 1. A webhook carries ids only (no name, no folder), so a file's name must be
  read; the cheapest read is the folder listing, but which folder to list is itself only learned
  by reading one file;
* ``list_folder_children``: ``ceil(uploads / 100)`` pages (100 is the largest page size), listed
  once after the last upload landed;
* nothing else: no read-back, no stack listing, no reorder, nothing for ``file.ready`` events.

So ``LB = groups + 1 + ceil(uploads / 100)`` = 263 calls for the full burst, 0.263 per version.
For reference the report also gives the *per-event bound*, ``groups + uploads`` = 1,450 (one
``show_file`` per upload, one create per group): what a client needs that reads each file once
when its first webhook comes and never lists.

**The floor** is the least time the sandbox's buckets allow for the lower bound's calls. The
sandbox's :class:`sandbox.ratelimit.LeakyBucket` for an endpoint of ``c`` calls per window ``W``
starts empty, grants a call while ``level + 1 <= c`` and leaks ``c / w`` per second (``w = W x
WINDOW_SCALE``): from idle it grants a burst of exactly ``c`` calls, then one every ``w / c``. So
``n`` calls need at least ``t(n) = max(0, n - c) x w / c`` seconds from the first, and

    floor = max over endpoints of t(n_endpoint) + LATENCY_S   (the last call's own round trip)

``t`` is computed by driving the sandbox's own ``LeakyBucket`` (and checked against the closed
form). ``create_stack`` binds: ``(250 - 10) x 0.2 s = 48 s``, floor 48.05 s. ``show_file`` is
10/s, and that 1 s window is scaled too (300 calls/s): even 2,400 of them, one per webhook, need
8 s; ``list_folder_children`` (100 per 2 s) would need over 2,500 pages to bind. The report gives
``t`` for the calls each run actually made, per endpoint, which shows what bound *that* run.

**The report** per run: the end state; completion, floor and their ratio; how late the service took
the webhooks; the machine's load (other processes share the CPUs); 429s; calls by endpoint and
status, per stacked file, against the lower bound; the decisions by event and code; the decisions
logged (a drain records one per file, a per-file job one per run), when the creates happened, and
how long coalescing leaders really waited for their second run; for versions left loose, what their
jobs decided. Then one ``RESULT {json}`` line with ``completion_s``, ``floor_s``, ``ratio``,
``http_429``, ``calls_total``, ``calls_per_file`` (per stacked file), ``calls_lower_bound``,
``workers``, ``variant`` (``autostack`` or ``naive``) and more.

**Goals** (issue 6), judged from the measurements and printed, never assumed: ratio <= 1.15 with 4
workers; 429s at most 1 % of the calls; calls per stacked file at most 1.3 x the lower bound; each
naive run worse by at least 20 % than autostack on as many workers in time
(:func:`naive_verdicts`), 429s and calls per stacked file. One event at a time, one worker never
outruns the limits, so its 429s are no verdict when neither run got one; eight naive workers do.
The exit status is 1 when an autostack run is wrong (a wrong naive run is reported, and fails the
bench only with ``--strict-naive``), 3 with ``--strict-goals`` when a goal is missed, else 0.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
from rq import Queue
from rq.utils import utcparse

from sandbox.paging import MAX_PAGE_SIZE
from sandbox.ratelimit import LIMITS, LeakyBucket
from service.launcher import EVENTS, LocalStack
from workers.decisions import STREAM, Decision
from workers.ingest.inbox import delivery_key
from workers.ingest.queue import file_job_id as job_id_for
from workers.naming.parser import DEFAULT_RULES, Declined, Parsed, parse

WINDOW_SCALE = 2 / 60
LATENCY_S = 0.05
TRANSCODE_DELAY_S = 1.0
GROUPS = 250
VERSIONS = 4
DECOYS = 200
SEED = 20250606
#: At most this many uploads wait for the service to take their first webhook (DeliveryGate).
INFLIGHT = 40
#: Seconds a run spends outside the timed part (start-up, collection, shut-down), for the budget.
STARTUP_S = 10.0
#: Seconds every later run keeps when an earlier run is given its time limit.
MIN_SHARE_S = 120.0

#: Names of the versioned uploads: {title}_{shot}_{task}{form}{version}{ext}
TITLES = ("harbor", "kestrel", "orbit_launch", "showreel", "recap_ep05", "nightfall", "tidal", "copper")
TASKS = ("comp", "grade", "anim", "lgt", "edit", "roto")
FORMS = ("_v{:03d}", "_v{}", "_ver{:02d}", "-v{:02d}", " v{}")
#: Decoys: camera originals (ARRI, RED, GoPro, phone, Sony, DJI, Canon) and names without a version.
CAMERA = (
    "A{a:03d}C{b:03d}_230610_R{c:02d}JL.mov",
    "B{a:03d}_C{b:03d}_0914XK_001.R3D",
    "GH01{a:02d}{b:02d}.MP4",
    "IMG_{a:02d}{b:02d}.MOV",
    "C{a:02d}{b:02d}.MP4",
    "DJI_{a:02d}{b:02d}.MP4",
    "MVI_{a:02d}{b:02d}.MOV",
)
PLAIN = ("{t}_broll_take{a}_{b}.mov", "{t}_interview_{a}_{b}.mov", "{t}_sunset_{a}-{b}.mp4")


# -- the workload --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    name: str
    group: str | None  # the group key autostack should find; None for a decoy
    version: int = 0


@dataclass(frozen=True)
class Workload:
    uploads: tuple[Upload, ...]  # in upload order (shuffled)
    groups: int
    decoys: int

    @property
    def versions(self) -> int:
        return sum(1 for upload in self.uploads if upload.group is not None)


def make_workload(scale: float, seed: int = SEED) -> Workload:
    """Groups of ``VERSIONS`` versions and decoys, every name checked against the naming rules."""
    rng = random.Random(seed)
    groups = max(1, round(GROUPS * scale))
    decoys = round(DECOYS * scale)
    uploads: list[Upload] = []
    for index in range(groups):
        title, task, form = TITLES[index % len(TITLES)], rng.choice(TASKS), rng.choice(FORMS)
        stem = f"{title}_sh{(index + 1) * 10:04d}_{task}"
        ext = rng.choice((".mov", ".mov", ".mp4", ".mxf"))
        names = [f"{stem}{form.format(version)}{ext}" for version in range(1, VERSIONS + 1)]
        keys = {_parsed(name).group_key for name in names}
        assert len(keys) == 1, f"the versions of {stem} parse to several keys: {keys}"
        key = keys.pop()
        uploads += [Upload(name, key, version) for version, name in enumerate(names, start=1)]
    for index in range(decoys):
        a, b = divmod(index, 97)
        pattern = CAMERA[index % len(CAMERA)] if index % 3 else PLAIN[index % len(PLAIN)]
        name = pattern.format(a=a + 1, b=b + 1, c=index % 90 + 1, t=TITLES[index % len(TITLES)])
        assert isinstance(parse(name, DEFAULT_RULES), Declined), f"decoy {name} parses as a version"
        uploads.append(Upload(name, None))
    assert len({upload.name for upload in uploads}) == len(uploads), "duplicate names in the workload"
    assert len({upload.group for upload in uploads if upload.group}) == groups, "two groups share a key"
    rng.shuffle(uploads)
    return Workload(tuple(uploads), groups, decoys)


def _parsed(name: str) -> Parsed:
    parsed = parse(name, DEFAULT_RULES)
    assert isinstance(parsed, Parsed), f"{name} does not parse: {parsed}"
    return parsed


# -- bounds --------------------------------------------------------------------------------------


def lower_bound(workload: Workload) -> dict[str, int]:
    """The calls a perfect client needs, by endpoint (see the module docstring)."""
    return {
        "create_stack": workload.groups,
        "show_file": 1,
        "list_folder_children": math.ceil(len(workload.uploads) / MAX_PAGE_SIZE),
    }


def per_event_bound(workload: Workload) -> dict[str, int]:
    """One read per uploaded file when its first event comes, one create per group."""
    return {"create_stack": workload.groups, "show_file": len(workload.uploads)}


def bucket_time(endpoint: str, calls: int, scale: float = WINDOW_SCALE) -> float:
    """The least seconds from the first to the last of ``calls`` calls that the sandbox's own
    leaky bucket admits for ``endpoint`` (0 for an endpoint without a documented limit)."""
    if endpoint not in LIMITS or calls <= 0:
        return 0.0
    capacity, window = LIMITS[endpoint]
    window_s = window * scale
    bucket = LeakyBucket(capacity, stamp=0.0)
    at = 0.0
    for _ in range(calls):
        while not (verdict := bucket.offer(window_s, at, enforce=True)).allowed:
            at += max(verdict.retry_after_s, 1e-9)
    closed_form = max(0, calls - capacity) * window_s / capacity
    assert abs(at - closed_form) < 1e-6 * max(1.0, closed_form), (endpoint, at, closed_form)
    return at


def floor_of(calls: dict[str, int], scale: float = WINDOW_SCALE, latency_s: float = LATENCY_S) -> tuple[float, str]:
    """The floor for these calls and the endpoint that sets it."""
    times = {endpoint: bucket_time(endpoint, count, scale) for endpoint, count in calls.items()}
    binding = max(times, key=lambda endpoint: times[endpoint])
    return times[binding] + latency_s, binding


# -- one run ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    label: str  # autostack | naive
    workers: int
    extra: tuple[tuple[str, str], ...] = ()  # --env settings, for autostack runs

    def env(self) -> dict[str, str]:
        # The reconciliation sweep fires on wall-clock boundaries (every 5 minutes): whether one
        # lands inside a run would be chance. The burst measures the webhook path; it is off.
        env = {"AUTOSTACK_RATE_WINDOW_SCALE": repr(WINDOW_SCALE), "AUTOSTACK_SWEEP_INTERVAL_S": "0"}
        if self.label == "naive":
            env |= {
                "AUTOSTACK_INBOX": "false",
                "AUTOSTACK_RATE_LIMITER": "false",
                "AUTOSTACK_COALESCE_WINDOW_S": "0",
                "AUTOSTACK_LISTING_CACHE_S": "0",
            }
        return env | dict(self.extra)

    def acted_on(self) -> list[str]:
        """The webhook event types that make a job (``AUTOSTACK_EVENT_TYPES``, default both)."""
        chosen = self.env().get("AUTOSTACK_EVENT_TYPES")
        return [event for event in EVENTS if chosen is None or event in chosen.split(",")]

    @property
    def inbox(self) -> bool:
        """Deliveries go to the account inbox (one drain per account) rather than a job each."""
        return self.env().get("AUTOSTACK_INBOX", "true").lower() not in ("false", "0", "no")

    def decisions_expected(self, uploads: int) -> int:
        """Final decisions a finished run records: one per file with the inbox (a file's later
        events are duplicates of its first), else one per event acted on."""
        return uploads if self.inbox else len(self.acted_on()) * uploads

    def title(self) -> str:
        settings = "".join(f", {key}={value}" for key, value in self.extra)
        return f"{self.label}, {self.workers} worker{'s' if self.workers > 1 else ''}{settings}"


@dataclass
class RunResult:
    variant: Variant
    completed: bool = False
    completion_s: float = 0.0
    landed_s: float = 0.0
    last_decision_s: float = 0.0
    problems: list[str] = field(default_factory=list)
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)  # (endpoint, status) -> count
    decisions: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (event, outcome, code)
    retries: Counter[str] = field(default_factory=Counter)  # "endpoint: why" -> count
    log: list[Decision] = field(default_factory=list)  # every decision, oldest first
    started_wall: float = 0.0
    tree: dict[str, Any] = field(default_factory=dict)
    timeout_s: float = 0.0
    decided: int = 0  # events with a final decision
    groups_done: int = 0  # groups that are one stack of their versions in order
    redelivered: int = 0  # webhooks the sandbox had to send more than once (no 2xx within 5 s)
    load: tuple[float, float] = (0.0, 0.0)  # the 1-minute load average before and after the run
    lags: dict[str, list[float]] = field(default_factory=dict)  # event -> seconds from due to accepted
    stacked_files: int = 0
    failed_jobs: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.completed and not self.problems and not self.error

    @property
    def calls_total(self) -> int:
        return sum(self.calls.values())

    @property
    def http_429(self) -> int:
        return sum(count for (_, status), count in self.calls.items() if status == "429")

    def by_endpoint(self, *, admitted_only: bool = False) -> Counter[str]:
        """Calls per endpoint; ``admitted_only`` leaves out the 429s (they take nothing from a bucket)."""
        counts: Counter[str] = Counter()
        for (endpoint, status), count in self.calls.items():
            if not admitted_only or status not in ("429", "dropped"):
                counts[endpoint] += count
        return counts


class Burst:
    """Runs one variant on a fresh LocalStack and measures it."""

    def __init__(self, workload: Workload, args: argparse.Namespace) -> None:
        self.workload = workload
        self.args = args
        self.names: dict[str, str] = {}  # file id -> name

    def run(self, variant: Variant, timeout: float) -> RunResult:
        result = RunResult(variant, timeout_s=timeout)
        config = {"latency_s": LATENCY_S, "rate_window_scale": WINDOW_SCALE, "transcode_delay_s": TRANSCODE_DELAY_S}
        booted = time.monotonic()
        load_before = os.getloadavg()[0]
        stack = LocalStack.start(workers=variant.workers, sandbox_config=config, env=variant.env())
        try:
            _say(f"  stack up in {time.monotonic() - booted:.1f} s ({stack.workdir})")
            folder_id = stack.create_folder("burst")
            httpx.post(f"{stack.sandbox_url}/_sandbox/calls/reset", timeout=10).raise_for_status()
            started_wall = time.time()
            started = time.monotonic()
            uploaded_at = self._upload(stack, folder_id, variant.inbox)
            result.landed_s = time.monotonic() - started
            _say(f"  burst: {len(uploaded_at)} uploads landed in {result.landed_s:.1f} s")
            try:
                self._wait(stack, started, result)
                result.completion_s = time.monotonic() - started
                result.completed = True
            except TimeoutError as exc:
                result.completion_s = time.monotonic() - started
                result.error = f"did not finish: {exc}"
            except RuntimeError as exc:  # a worker died
                result.completion_s = time.monotonic() - started
                result.error = str(exc).splitlines()[0]
            self._collect(stack, folder_id, uploaded_at, started_wall, result)
        except (httpx.HTTPError, OSError) as exc:  # the sandbox or Redis stopped answering
            result.error = result.error or f"the run broke off: {type(exc).__name__}: {exc}"
        finally:
            stack.stop()
        result.load = (load_before, os.getloadavg()[0])
        return result

    def _upload(self, stack: LocalStack, folder_id: str, inbox: bool) -> dict[str, float]:
        """Every upload of the workload from a thread pool, at most ``--inflight`` of them with their
        ``file.upload.completed`` webhook not yet taken by the service; returns file id -> the
        wall time its upload completed."""
        uploads = self.workload.uploads
        threads = self.args.upload_threads
        limits = httpx.Limits(max_connections=threads, max_keepalive_connections=threads)
        gate = DeliveryGate(stack, self.args.inflight, inbox=inbox)
        done: dict[str, float] = {}
        try:
            with httpx.Client(base_url=stack.sandbox_url, timeout=60, limits=limits) as client:

                def send(upload: Upload) -> None:
                    gate.acquire()
                    response = client.post("/_sandbox/upload", json={"folder_id": folder_id, "name": upload.name})
                    response.raise_for_status()
                    file_id = str(response.json()["data"]["id"])
                    done[file_id] = time.time()
                    self.names[file_id] = upload.name
                    gate.sent(file_id)

                with ThreadPoolExecutor(threads) as pool:
                    list(pool.map(send, uploads))
        finally:
            gate.close()
        stack.uploaded.extend(done)
        return done

    def _wait(self, stack: LocalStack, started: float, result: RunResult) -> None:
        """Watch the decision log and the queue (cheap, from Redis) and print progress; once every
        event has its final decision and the queue is idle, ``wait_idle`` confirms it."""
        expected = result.variant.decisions_expected(len(self.workload.uploads))
        deadline = started + result.timeout_s
        watcher = DecisionWatcher(stack)
        last_print = last_change = time.monotonic()
        seen = -1
        try:
            while True:
                time.sleep(0.25)  # the benchmark's polling interval for progress (not a test)
                now = time.monotonic()
                final = watcher.poll()
                if final != seen:
                    seen, last_change = final, now
                idle = stack.queue_idle()
                if idle and (final >= expected or now - last_change > 10):
                    break
                if now > deadline:
                    raise TimeoutError(f"{result.timeout_s:.0f} s passed with {final} of {expected} events decided")
                if now - last_print >= self.args.progress_s:
                    last_print = now
                    _say(f"  t={now - started:6.1f} s  {self._progress(stack, watcher, expected)}")
            deliveries = len(EVENTS) * len(self.workload.uploads)  # sent whether or not autostack acts on them
            stack.wait_idle(timeout=max(5.0, deadline - time.monotonic()), expected_deliveries=deliveries)
        finally:
            watcher.close()

    def _progress(self, stack: LocalStack, watcher: DecisionWatcher, expected: int) -> str:
        client = stack.redis()
        try:
            queue = Queue(stack.queue_name, connection=client)
            queued, running = queue.count, queue.started_job_registry.count
            scheduled = queue.scheduled_job_registry.count
        finally:
            client.close()
        try:
            calls = _calls(stack)
        except httpx.HTTPError as exc:
            return f"decided {watcher.final}/{expected}  queued {queued}  (the sandbox did not answer: {exc!r})"
        total = sum(calls.values())
        limited = sum(count for (_, status), count in calls.items() if status == "429")
        creates = sum(
            count for (endpoint, status), count in calls.items() if endpoint == "create_stack" and status == "201"
        )
        return (
            f"decided {watcher.final}/{expected}  queued {queued} running {running} scheduled {scheduled}  "
            f"calls {total} (429: {limited})  stacks created {creates}/{self.workload.groups}"
        )

    def _collect(
        self, stack: LocalStack, folder_id: str, uploaded_at: dict[str, float], started_wall: float, result: RunResult
    ) -> None:
        result.calls = _calls(stack)
        client = stack.redis()
        try:
            decisions = read_decisions(client)
            result.failed_jobs = Queue(stack.queue_name, connection=client).failed_job_registry.count
            account = stack.state["account_id"]
            result.lags = webhook_lags(client, account, uploaded_at, started_wall, result.variant.inbox)
        finally:
            client.close()
        attempts = Counter(len(item["attempts"]) for item in stack.deliveries())
        result.redelivered = sum(count for tries, count in attempts.items() if tries > 1)
        result.log, result.started_wall = decisions, started_wall
        result.decided = sum(1 for d in decisions if d.outcome != "waiting" and d.event in EVENTS)
        for decision in decisions:
            result.decisions[(decision.event, decision.outcome, decision.code)] += 1
            if decision.code == "retry":
                result.retries[_retry_cause(decision.reason)] += 1
        if decisions:
            result.last_decision_s = max(decision.at for decision in decisions) - started_wall
        tree = result.tree = stack.tree(folder_id)
        result.problems, result.groups_done = verify(tree, uploaded_at, self.workload)
        result.stacked_files = sum(len(item["children"]) for item in tree["stacks"])
        if result.failed_jobs:
            result.problems.append(f"{result.failed_jobs} job(s) in RQ's failed registry")


class DeliveryGate:
    """Holds uploads back while ``limit`` uploads have their ``file.upload.completed`` webhook not
    yet accepted (its RQ job not yet in Redis); ``limit`` 0 holds nothing back.

    Why: the sandbox delivers every webhook as its own task on one httpx connection pool, whose
    request assignment costs O(waiting requests x connections) per event: once more than a few
    hundred deliveries wait (the service takes them slower than a thread pool uploads), the
    sandbox spends its event loop there and API calls and uploads stall for seconds. The gate
    keeps the burst as fast as the service takes its webhooks, without that collapse."""

    def __init__(self, stack: LocalStack, limit: int, *, inbox: bool) -> None:
        self.limit = limit
        self.inbox = inbox
        self.account_id = stack.state["account_id"]
        self.client = stack.redis()
        self.waiting: set[tuple[str, str]] = set()  # (account id, file id)
        self.reserved = 0
        self.changed = threading.Condition()
        self.closed = False
        self.poller = threading.Thread(target=self._poll, name="delivery-gate", daemon=True)
        if limit > 0:
            self.poller.start()

    def acquire(self) -> None:
        """Wait for room for one more upload, and take it."""
        with self.changed:
            while self.limit > 0 and self.reserved + len(self.waiting) >= self.limit and not self.closed:
                self.changed.wait(0.5)
            self.reserved += 1

    def sent(self, file_id: str, account_id: str = "") -> None:
        """The upload is done: its room is held until the service has taken its webhook (the
        file is in the stack's first account unless ``account_id`` says otherwise)."""
        with self.changed:
            self.reserved -= 1
            if self.limit > 0:
                self.waiting.add((account_id or self.account_id, file_id))

    def _poll(self) -> None:
        while not self.closed:
            time.sleep(0.02)  # pacing the upload feeder (benchmark, not a test)
            with self.changed:
                waiting = list(self.waiting)
            if not waiting:
                continue
            pipe = self.client.pipeline(transaction=False)
            for account_id, file_id in waiting:
                pipe.exists(accepted_key(account_id, file_id, EVENTS[0], inbox=self.inbox))
            taken = {item for item, found in zip(waiting, pipe.execute(), strict=True) if found}
            if taken:
                with self.changed:
                    self.waiting -= taken
                    self.changed.notify_all()

    def close(self) -> None:
        self.closed = True
        with self.changed:
            self.changed.notify_all()
        if self.poller.is_alive():
            self.poller.join(5)
        self.client.close()


class DecisionWatcher:
    """Counts final decisions (anything but ``waiting``) of webhook events in the decision stream,
    incrementally (the reconciliation sweep's jobs are not counted)."""

    def __init__(self, stack: LocalStack) -> None:
        self.client = stack.redis()
        self.last_id = "-"
        self.final = 0

    def poll(self) -> int:
        start = "-" if self.last_id == "-" else f"({self.last_id}"
        entries: list[tuple[bytes, dict[bytes, bytes]]] = self.client.xrange(STREAM, min=start, count=10_000)  # type: ignore[assignment]
        for entry_id, fields in entries:
            self.last_id = entry_id.decode()
            if b"d" not in fields:
                continue
            decision = Decision.from_json(fields[b"d"])
            if decision.outcome != "waiting" and decision.event in EVENTS:
                self.final += 1
        return self.final

    def close(self) -> None:
        self.client.close()


def accepted_key(account_id: str, file_id: str, event: str, *, inbox: bool) -> str:
    """The Redis key that exists once the service has accepted the file's ``event``: the inbox's
    delivery mark (any event of the file), or the job of the event."""
    return delivery_key(account_id, file_id) if inbox else f"rq:job:{job_id_for(event, account_id, file_id)}"


def webhook_lags(
    client: Any, account_id: str, uploaded_at: Mapping[str, float], started_wall: float, inbox: bool
) -> dict[str, list[float]]:
    """Per event type, for every upload: seconds from when Frame.io would send the webhook (the
    upload's completion, plus the transcode delay for ``file.ready``) to the service having
    accepted it (the inbox's delivery mark, which holds the time: one per file, its first event;
    or the job's ``enqueued_at``). Key ``"_last"`` holds one value: when the last webhook was
    taken, seconds after the first upload started."""
    if inbox:
        return _inbox_lags(client, account_id, uploaded_at, started_wall)
    lags: dict[str, list[float]] = {event: [] for event in EVENTS}
    last = 0.0
    for event in EVENTS:
        due_after = TRANSCODE_DELAY_S if event == "file.ready" else 0.0
        files = list(uploaded_at)
        pipe = client.pipeline(transaction=False)
        for file_id in files:
            pipe.hget(f"rq:job:{job_id_for(event, account_id, file_id)}", "enqueued_at")
        for file_id, raw in zip(files, pipe.execute(), strict=True):
            if raw:
                enqueued = utcparse(raw.decode()).timestamp()
                lags[event].append(enqueued - uploaded_at[file_id] - due_after)
                last = max(last, enqueued - started_wall)
    lags["_last"] = [last]
    return lags


def _inbox_lags(
    client: Any, account_id: str, uploaded_at: Mapping[str, float], started_wall: float
) -> dict[str, list[float]]:
    files = list(uploaded_at)
    pipe = client.pipeline(transaction=False)
    for file_id in files:
        pipe.get(delivery_key(account_id, file_id))
    accepted = {file_id: int(raw) / 1000 for file_id, raw in zip(files, pipe.execute(), strict=True) if raw}
    lags = [at - uploaded_at[file_id] for file_id, at in accepted.items()]
    last = max(accepted.values(), default=started_wall) - started_wall
    return {EVENTS[0]: lags, "_last": [last]}


def read_decisions(client: Any) -> list[Decision]:
    entries: list[tuple[bytes, dict[bytes, bytes]]] = client.xrange(STREAM)
    return [Decision.from_json(fields[b"d"]) for _, fields in entries if b"d" in fields]


def _retry_cause(reason: str) -> str:
    """'create_stack: rate limited here, next call in 1.2 s; trying again in 1.3 s' -> 'create_stack: limiter'."""
    endpoint = reason.split(":", 1)[0]
    if "rate limited here" in reason:
        return f"{endpoint}: our limiter (Throttled)"
    if "HTTP 429" in reason:
        return f"{endpoint}: HTTP 429"
    return f"{endpoint}: {reason.split(';', 1)[0].split(':', 1)[-1].strip()[:60]}"


def _calls(stack: LocalStack) -> Counter[tuple[str, str]]:
    response = httpx.get(f"{stack.sandbox_url}/_sandbox/calls", timeout=30)
    response.raise_for_status()
    return Counter({(row["endpoint"], str(row["status"])): int(row["count"]) for row in response.json()["calls"]})


def verify(tree: dict[str, Any], ids: Mapping[str, object], workload: Workload) -> tuple[list[str], int]:
    """What is wrong with the folder (every group one stack of its versions in version order, top
    first in the tree; every decoy loose; nothing else), and how many groups are done right."""
    by_name = {upload.name: upload for upload in workload.uploads}
    problems: list[str] = []
    right: Counter[str] = Counter()
    if len(ids) != len(workload.uploads):
        problems.append(f"{len(ids)} of {len(workload.uploads)} uploads were made")
    stacks_of: Counter[str] = Counter()
    for item in tree["stacks"]:
        names = [child["name"] for child in item["children"]]
        groups = {by_name[name].group if name in by_name else None for name in names}
        group = next(iter(groups)) if len(groups) == 1 else None
        if group is None:
            problems.append(f"stack {item['id']} mixes groups or holds decoys: {names}")
            continue
        stacks_of[group] += 1
        versions = [by_name[name].version for name in names]
        if versions != list(range(VERSIONS, 0, -1)):
            problems.append(f"stack of {group}: versions top first {versions}, expected {VERSIONS}..1")
        else:
            right[group] += 1
    expected_groups = {upload.group for upload in workload.uploads if upload.group is not None}
    for group in sorted(expected_groups):
        if stacks_of[group] != 1:
            problems.append(f"group {group}: {stacks_of[group]} stacks")
    loose = [file["name"] for file in tree["files"]]
    stray = [name for name in loose if name not in by_name or by_name[name].group is not None]
    if stray:
        problems.append(f"{len(stray)} version(s) left loose, e.g. {stray[:3]}")
    decoys_loose = sum(1 for name in loose if name in by_name and by_name[name].group is None)
    if decoys_loose != workload.decoys:
        problems.append(f"{decoys_loose} of {workload.decoys} decoys are loose files")
    if tree["folders"]:
        problems.append(f"{len(tree['folders'])} unexpected sub-folder(s)")
    done = sum(1 for group in expected_groups if stacks_of[group] == 1 and right[group] == 1)
    return problems, done


# -- the report ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bounds:
    lower: dict[str, int]
    per_event: dict[str, int]
    floor_s: float
    binding: str

    @property
    def lower_total(self) -> int:
        return sum(self.lower.values())


def report(result: RunResult, workload: Workload, bounds: Bounds) -> dict[str, Any]:
    """Print one run and return its RESULT record."""
    stacked = max(1, result.stacked_files)
    total = result.calls_total
    ratio = result.completion_s / bounds.floor_s
    share_429 = result.http_429 / total if total else 0.0
    state = "OK" if result.ok else "WRONG"
    _say(f"  end state: {state}" + ("" if result.ok else f" ({len(result.problems)} problem(s))"))
    if result.ok:
        _say(f"    {workload.groups} stacks of {VERSIONS} in version order, {workload.decoys} decoys loose")
    for problem in result.problems[:8]:
        _say(f"    - {problem}")
    if result.error:
        _say(f"    - {result.error}")
    finished = "" if result.completed else " (unfinished: a lower bound)"
    expected = result.variant.decisions_expected(len(workload.uploads))
    if not result.completed:
        _say(f"  decided {result.decided} of {expected} events ({result.decided / expected:.0%}) before it stopped")
    _say(
        f"  completion {result.completion_s:.2f} s{finished} (burst landed after {result.landed_s:.1f} s, "
        f"last decision at {result.last_decision_s:.2f} s)"
    )
    _webhook_line(result)
    load = f"{result.load[0]:.1f} before, {result.load[1]:.1f} after"
    _say(f"  machine load (1-min average): {load} ({os.cpu_count()} CPUs; other processes share them)")
    _say(f"  floor {bounds.floor_s:.2f} s ({bounds.binding}: {bounds.lower[bounds.binding]} calls)  ratio {ratio:.3f}")
    _say(f"  429s: {result.http_429} of {total} calls ({share_429:.2%})")
    per_file = total / stacked
    lower_per_file = bounds.lower_total / workload.versions
    event_total = sum(bounds.per_event.values())
    event_per_file = event_total / workload.versions
    _say(
        f"  calls per stacked file: {per_file:.3f} = {per_file / lower_per_file:.2f} x the lower bound "
        f"({bounds.lower_total} calls, {lower_per_file:.3f}/file); {per_file / event_per_file:.2f} x the "
        f"per-event bound ({event_total}, {event_per_file:.3f}/file)"
    )
    _endpoint_table(result, bounds, stacked)
    _decision_table(result)
    _timeline(result)
    _evidence(result, workload)
    record = {
        "bench": "burst",
        "variant": result.variant.label,
        "env": dict(result.variant.extra),
        "workers": result.variant.workers,
        "ok": result.ok,
        "completed": result.completed,
        "completion_s": round(result.completion_s, 3),
        "floor_s": round(bounds.floor_s, 3),
        "ratio": round(ratio, 4),
        "http_429": result.http_429,
        "http_429_share": round(share_429, 5),
        "calls_total": total,
        "calls_per_file": round(per_file, 4),
        "calls_lower_bound": bounds.lower_total,
        "calls_lower_bound_per_file": round(lower_per_file, 4),
        "calls_per_event_bound": event_total,
        "stacked_files": result.stacked_files,
        "uploads": len(workload.uploads),
        "landed_s": round(result.landed_s, 3),
        "events_decided": result.decided,
        "groups_done": result.groups_done,
        "redelivered": result.redelivered,
        "groups_per_s": round(result.groups_done / result.completion_s, 4) if result.completion_s else 0.0,
        "events_expected": expected,
        "load_1m": [round(value, 2) for value in result.load],
        "calls_by_endpoint": dict(sorted(result.by_endpoint().items())),
    }
    print("RESULT " + json.dumps(record), flush=True)
    return record


def _endpoint_table(result: RunResult, bounds: Bounds, stacked: int) -> None:
    calls, admitted = result.by_endpoint(), result.by_endpoint(admitted_only=True)
    statuses: dict[str, Counter[str]] = {}
    for (endpoint, status), count in result.calls.items():
        statuses.setdefault(endpoint, Counter())[status] += count
    _say(f"  {'endpoint':<22}{'calls':>7}{'per file':>10}{'LB':>5}{'429s':>6}{'bucket t':>10}  statuses")
    ordered = sorted(calls, key=lambda endpoint: -calls[endpoint])
    for endpoint in ordered:
        spread = " ".join(f"{status}:{count}" for status, count in sorted(statuses[endpoint].items()))
        _say(
            f"  {endpoint:<22}{calls[endpoint]:>7}{calls[endpoint] / stacked:>10.3f}"
            f"{bounds.lower.get(endpoint, 0):>5}{statuses[endpoint]['429']:>6}"
            f"{bucket_time(endpoint, admitted[endpoint]):>9.1f}s  {spread}"
        )
    own_floor, own_binding = floor_of(dict(admitted)) if admitted else (0.0, "-")
    _say(f"  the calls this run made need at least {own_floor:.1f} s ({own_binding} binds)")


def _decision_table(result: RunResult) -> None:
    by_event: dict[str, Counter[str]] = {}
    for (event, outcome, code), count in result.decisions.items():
        by_event.setdefault(event, Counter())[f"{outcome}/{code}"] += count
    for event, counts in sorted(by_event.items()):
        spread = ", ".join(f"{key} {count}" for key, count in counts.most_common())
        _say(f"  decisions for {event}: {spread}")
    if result.retries:
        spread = ", ".join(f"{key} {count}" for key, count in result.retries.most_common())
        _say(f"  retries by cause: {spread}")


def _webhook_line(result: RunResult) -> None:
    parts = []
    for event in EVENTS:
        lags = sorted(result.lags.get(event, []))
        if lags:
            parts.append(f"{event} {len(lags)}, {_spread_of(lags)}")
    if parts:
        last = result.lags.get("_last", [0.0])[0]
        _say(
            f"  webhooks taken after they were due: {'; '.join(parts)}; the last at {last:.1f} s; "
            f"{result.redelivered} sent more than once"
        )


def _timeline(result: RunResult) -> None:
    """When the work happened, from the decision log: decisions, creates, and how long coalescing
    leaders really waited (their window is AUTOSTACK_COALESCE_WINDOW_S; a leader's second run is
    due then, but RQ puts a due job at the back of the queue)."""
    log, start = result.log, result.started_wall
    if not log:
        return
    events = sum(1 for d in log if d.outcome != "waiting")
    line = (
        f"  decisions logged: {len(log)} ({events} final, {len(log) - events} waits handed back to RQ); "
        f"{len(log) / result.completion_s:.1f} a second"
    )
    if not result.variant.inbox:  # a job per decision: how long each held a worker
        line += f", {result.completion_s * result.variant.workers / len(log):.2f} s of a worker per job"
    _say(line)
    made: dict[str, float] = {}  # a created stack's files share its id: one create each
    for d in log:
        if d.code == "created":
            made.setdefault(d.stack_id or d.file_id, d.at - start)
    creates = list(made.values())
    if creates:
        _say(
            f"  creates: {len(creates)}, first at {min(creates):.1f} s, median {statistics.median(creates):.1f} s, "
            f"last at {max(creates):.1f} s"
        )
        per_slot = Counter(int(at // 5) for at in creates)
        spread = " ".join(str(per_slot[slot]) for slot in range(max(per_slot) + 1))
        _say(f"  creates per 5 s from the first upload (at most 25 once the bucket's first 10 are spent): {spread}")
    waits = _second_run_delays(log, "coalescing")
    if waits:
        _say(f"  coalescing leaders: {len(waits)}, their second run came after {_spread_of(waits)}")


def _spread_of(values: Sequence[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    return f"median {statistics.median(ordered):.1f} s, p90 {p90:.1f} s, max {ordered[-1]:.1f} s"


def _second_run_delays(log: Sequence[Decision], code: str) -> list[float]:
    """For each decision with ``code``, seconds until the next decision of the same file and event."""
    pending: dict[tuple[str, str], float] = {}
    delays: list[float] = []
    for decision in log:
        key = (decision.file_id, decision.event)
        if key in pending:
            delays.append(decision.at - pending.pop(key))
        if decision.code == code:
            pending[key] = decision.at
    return delays


def _evidence(result: RunResult, workload: Workload) -> None:
    """For versions left loose: what each of their jobs decided, and what their group's jobs did."""
    if not result.tree:
        return
    groups = {upload.name: upload.group for upload in workload.uploads}
    loose = [(item["id"], item["name"]) for item in result.tree["files"] if groups.get(item["name"])]
    for file_id, name in loose[:3]:
        own = [f"{d.event} {d.outcome}/{d.code}" for d in result.log if d.file_id == file_id]
        group = groups[name]
        made = [d.reason for d in result.log if d.group_key == group and d.code in ("created", "added")]
        _say(f"  evidence: {name} ({file_id}) left loose; its jobs: {own or 'none'}; its group's writes: {made}")


def judge(records: Sequence[dict[str, Any]]) -> list[tuple[str, bool | None, str]]:
    """The issue's goals: (goal, met or None when not measured, evidence)."""
    ours = [r for r in records if r["variant"] == "autostack"]
    verdicts: list[tuple[str, bool | None, str]] = []
    four = next((r for r in ours if r["workers"] == 4), None)
    if four is None:
        verdicts.append(("ratio <= 1.15 with 4 workers", None, "no 4-worker run"))
    else:
        verdicts.append(("ratio <= 1.15 with 4 workers", four["ok"] and four["ratio"] <= 1.15, f"{four['ratio']:.3f}"))
    for r in ours:
        name = f"{r['workers']} worker(s)"
        share = r["http_429_share"]
        verdicts.append((f"429s <= 1% of calls, {name}", share <= 0.01, f"{r['http_429']} = {share:.2%}"))
        per_file, bound = r["calls_per_file"], r["calls_lower_bound_per_file"]
        evidence = f"{per_file:.3f} vs {1.3 * bound:.3f} ({per_file / bound:.2f} x LB)"
        verdicts.append((f"calls per file <= 1.3 x LB, {name}", per_file <= 1.3 * bound, evidence))
    pairs = [
        (naive, match)
        for naive in records
        if naive["variant"] == "naive"
        if (match := next((r for r in ours if r["workers"] == naive["workers"]), None)) is not None
    ]
    if not pairs:
        verdicts.append(("naive visibly worse", None, "no naive run, or no autostack run on as many workers"))
    for naive, match in pairs:
        verdicts += naive_verdicts(naive, match)
    return verdicts


def naive_verdicts(naive: dict[str, Any], ours: dict[str, Any]) -> list[tuple[str, bool | None, str]]:
    """Is the naive baseline worse by at least 20 % than autostack on as many workers? Time: by the
    ratio when both finished; by the time limit when only autostack finished; else by groups
    stacked right per second. 429s: also at least 10 more (no verdict when neither got one: a
    baseline too slow to outrun the limits is not better for it). Calls per stacked file."""
    name = f"{naive['workers']} worker(s)"
    if naive["completed"] and ours["completed"]:
        slower = naive["ratio"] >= 1.2 * ours["ratio"]
        time = f"naive ratio {naive['ratio']:.3f} vs autostack {ours['ratio']:.3f}"
    elif ours["completed"]:
        slower = naive["completion_s"] >= 1.2 * ours["completion_s"]
        time = f"naive unfinished after {naive['completion_s']:.0f} s, autostack done in {ours['completion_s']:.0f} s"
    else:
        slower = ours["groups_per_s"] >= 1.2 * naive["groups_per_s"]
        time = (
            f"neither finished: naive {naive['groups_done']} groups right in {naive['completion_s']:.0f} s "
            f"({naive['groups_per_s']:.2f}/s), autostack {ours['groups_done']} in {ours['completion_s']:.0f} s "
            f"({ours['groups_per_s']:.2f}/s)"
        )
    more_429: bool | None = naive["http_429"] >= max(1.2 * ours["http_429"], ours["http_429"] + 10)
    if naive["http_429"] == ours["http_429"] == 0:
        more_429 = None
    calls = naive["calls_per_file"] >= 1.2 * ours["calls_per_file"]
    return [
        (f"naive visibly worse, {name}: time", slower, time),
        (f"naive visibly worse, {name}: 429s", more_429, f"naive {naive['http_429']} vs autostack {ours['http_429']}"),
        (
            f"naive visibly worse, {name}: calls per stacked file",
            calls,
            f"naive {naive['calls_per_file']:.3f} vs autostack {ours['calls_per_file']:.3f}",
        ),
    ]


def _say(text: str) -> None:
    print(text, flush=True)


# -- main ----------------------------------------------------------------------------------------


def _worker_counts(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("a comma list of worker counts >= 1")
    return counts


def _setting(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError("expected NAME=VALUE")
    return name.strip(), value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the 250 groups and 200 decoys")
    parser.add_argument(
        "--workers", type=_worker_counts, default=[4, 8, 1], help="autostack runs in this order (default 4,8,1)"
    )
    parser.add_argument("--no-naive", dest="naive", action="store_false", help="skip the naive baseline")
    parser.add_argument(
        "--naive-workers",
        type=_worker_counts,
        default=[8, 1],
        help="naive baseline runs, after the autostack runs (default 8,1)",
    )
    parser.add_argument("--timeout", type=float, default=480.0, help="seconds one run may take before it fails")
    parser.add_argument(
        "--budget", type=float, default=900.0, help="seconds for all runs: a run gets at most its share of what is left"
    )
    parser.add_argument("--upload-threads", type=int, default=16)
    parser.add_argument(
        "--inflight",
        type=int,
        default=INFLIGHT,
        help="uploads whose first webhook the service has not taken yet, at most (0: no limit)",
    )
    parser.add_argument("--progress-s", type=float, default=10.0, help="seconds between progress lines")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--env",
        type=_setting,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an autostack setting for the autostack runs, to try a change (repeatable)",
    )
    parser.add_argument("--strict-goals", action="store_true", help="exit 3 when a goal is missed")
    parser.add_argument("--strict-naive", action="store_true", help="a wrong naive end state fails the bench")
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 1:
        parser.error("--scale must be in (0, 1]")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    workload = make_workload(args.scale, args.seed)
    lower = lower_bound(workload)
    floor_s, binding = floor_of(lower)
    bounds = Bounds(lower, per_event_bound(workload), floor_s, binding)
    variants = [Variant("autostack", count, tuple(args.env)) for count in args.workers]
    if args.naive:
        variants += [Variant("naive", count) for count in args.naive_workers]
    _say(
        f"burst bench: {workload.groups} groups x {VERSIONS} versions + {workload.decoys} decoys = "
        f"{len(workload.uploads)} uploads ({len(EVENTS) * len(workload.uploads)} webhook deliveries), shuffled; "
        f"windows x {WINDOW_SCALE:.4f}, latency {LATENCY_S * 1000:.0f} ms, transcode {TRANSCODE_DELAY_S:g} s"
    )
    _say(
        f"lower bound {bounds.lower_total} calls ({_spread(lower.items())}); "
        f"floor {floor_s:.2f} s, set by {binding}: max(0, n - c) x w / c + latency"
    )
    records: list[dict[str, Any]] = []
    failed: list[str] = []
    began = time.monotonic()
    for number, variant in enumerate(variants, start=1):
        timeout = time_limit(args, args.budget - (time.monotonic() - began), len(variants) - number + 1, floor_s)
        _say(f"\nrun {number}/{len(variants)}: {variant.title()} (time limit {timeout:.0f} s)")
        result = Burst(workload, args).run(variant, timeout)
        records.append(report(result, workload, bounds))
        if not result.ok and (variant.label == "autostack" or args.strict_naive):
            failed.append(variant.title())
    verdicts = judge(records)
    _summary(records, verdicts)
    if args.env:
        settings = ", ".join(f"{key}={value}" for key, value in args.env)
        _say(f"  (the autostack runs used {settings}: the goals above judge that change, not the defaults)")
    if failed:
        _say(f"FAILED runs: {', '.join(failed)}")
        return 1
    if args.strict_goals and any(met is False for _, met, _ in verdicts):
        return 3
    return 0


def time_limit(args: argparse.Namespace, left_s: float, runs_left: int, floor_s: float) -> float:
    """A run's time limit: ``--timeout``, but leaving every later run at least ``MIN_SHARE_S``
    (the first runs, 4 and 8 workers, are the ones the goals are about) or its even share of
    what is left, and never less than 3 x the floor."""
    left = left_s - runs_left * STARTUP_S
    share = max(left / runs_left, left - (runs_left - 1) * MIN_SHARE_S)
    return max(3 * floor_s, min(float(args.timeout), share))


def _spread(items: Iterable[tuple[str, object]]) -> str:
    return ", ".join(f"{key} {value}" for key, value in items)


def _summary(records: Sequence[dict[str, Any]], verdicts: Sequence[tuple[str, bool | None, str]]) -> None:
    _say("\nsummary")
    _say(f"  {'run':<22}{'state':<7}{'completion':>11}{'floor':>8}{'ratio':>8}{'429s':>7}{'calls':>8}{'per file':>10}")
    for r in records:
        run = f"{r['variant']}, {r['workers']} worker(s)"
        state = "ok" if r["ok"] else "WRONG"
        _say(
            f"  {run:<22}{state:<7}{r['completion_s']:>10.1f}s{r['floor_s']:>7.1f}s{r['ratio']:>8.3f}"
            f"{r['http_429']:>7}{r['calls_total']:>8}{r['calls_per_file']:>10.3f}"
        )
    ratios = [r["ratio"] for r in records if r["variant"] == "autostack" and r["ok"]]
    if ratios:
        _say(f"  autostack ratios: best {min(ratios):.3f}, median {statistics.median(ratios):.3f}")
    _say("goals")
    for goal, met, evidence in verdicts:
        mark = "n/a " if met is None else ("MET " if met else "MISS")
        _say(f"  {mark} {goal}: {evidence}")


if __name__ == "__main__":
    sys.exit(main())
