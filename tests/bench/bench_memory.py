"""What a year of uploads costs in Redis (issue 20, part 4): bytes per accepted upload after a burst.

Run: ``python -m tests.bench.bench_memory [--scale 0.4] [--workers 4]``; ``make bench`` runs it with
the other benchmarks.

**The run.** One autostack run of the burst benchmark (:mod:`tests.bench.bench_burst`: the same
shuffled groups of four versions and decoys, the same sandbox limits, latency and settings), on a
fresh LocalStack, so Redis holds nothing but what this run wrote. ``INFO memory``'s
``used_memory`` is read once the stack is up and the folder made, before the first upload (the
*empty* server: RQ's worker records, the queue, the next sweep), then once every job has run.

**What lives beyond a day.** Waiting a day for the short-lived keys to expire is not practical, so
the benchmark does what a day would: it deletes every key whose TTL is a day or less (the dedupe
marks, shared listings, locks, finished jobs' hashes and results...) and drops the entries of RQ's
registries that RQ's maintenance would drop within a day (each is scored by its expiry), then reads
``used_memory`` again. What remains over the empty server, per accepted upload, is what one
upload keeps beyond a day. Every key is listed by class (its name with the ids taken out) with its
``MEMORY USAGE``, TTL and count, so the table shows which key costs what.

**Sizing.** A class kept ``T`` days (its TTL, or for the journal's index its age bound) costs
``uploads/day x T x bytes per upload`` at steady state; the decision stream is capped by entries
(``AUTOSTACK_DECISION_LOG_MAX``), so it costs ``min(a year of decisions, the cap) x bytes per
entry``; the dedupe marks (a day) count too. The per-file decisions are kept
``AUTOSTACK_DECISION_RETENTION_DAYS`` (90 by default), so their line is also given per day of
retention. The table for 1,000, 10,000 and 100,000 uploads a day is printed and in the README.

**Goal** (issue 20): at most 1 KB (1,024 bytes) per upload kept beyond a day. One ``RESULT {json}``
line ends the run. Exit status 1 when the run is wrong (the burst did not end as it should), else 0.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from service.launcher import LocalStack
from service.processes import start_redis
from tests.bench.bench_burst import Burst, RunResult, Variant, Workload, make_workload
from workers.decisions import PER_FILE, STREAM, STREAM_KEEP_S
from workers.settings import Settings, load_settings
from workers.stacking.journal import WRITE_TTL_S, WRITES_KEY

DAY_S = 24 * 3600
GOAL_BYTES = 1024
DAILY = (1_000, 10_000, 100_000)
_ID_LIKE = re.compile(r"^[a-z][a-z_-]{0,23}$")


@dataclass(frozen=True)
class KeyClass:
    name: str  # the key's name up to its first id: autostack:write:*
    keys: int
    bytes: int  # MEMORY USAGE summed
    ttl_s: int  # the longest TTL seen; -1: none

    @property
    def kept_days(self) -> float:
        """How long one upload's share lives: its TTL, or for the journal's index its age bound."""
        if self.name == WRITES_KEY:
            return WRITE_TTL_S / DAY_S
        return max(self.ttl_s, 0) / DAY_S

    @property
    def long_lived(self) -> bool:
        return self.ttl_s > DAY_S or self.name == WRITES_KEY

    @property
    def note(self) -> str:
        if self.name == STREAM:
            return "  (the last day, capped)"
        if self.long_lived:
            return ""
        return "  (fixed)" if self.ttl_s < 0 and not self.name.endswith(":*") else "  (gone a day later)"


@dataclass(frozen=True)
class Footprint:
    uploads: int
    empty: int  # the keys' bytes (stored_bytes) before the first upload
    after_burst: int  # once every job ran
    after_a_day: int  # with the keys of a day or less deleted, as a day would
    classes: tuple[KeyClass, ...]  # every key once every job ran, by class
    stream_entries: int

    def per_upload(self, used: int) -> float:
        return (used - self.empty) / self.uploads

    @property
    def kept_factor(self) -> float:
        """Stored bytes over the MEMORY USAGE of the keys kept beyond a day (the allocator's
        rounding, the key tables): what turns a class's MEMORY USAGE into what it really takes."""
        usage = sum(cls.bytes for cls in self.classes if cls.long_lived)
        return (self.after_a_day - self.empty) / usage if usage else 1.0

    @property
    def short_factor(self) -> float:
        usage = sum(cls.bytes for cls in self.classes if not cls.long_lived)
        return (self.after_burst - self.after_a_day) / usage if usage else 1.0


def key_class(key: str) -> str:
    """``autostack:decisions:file:<id>`` -> ``autostack:decisions:file:*``: the name up to its first id."""
    kept: list[str] = []
    for part in key.split(":"):
        if not _ID_LIKE.match(part):
            return ":".join([*kept, "*"])
        kept.append(part)
    return key


def used_memory(client: redis.Redis) -> int:
    """``INFO memory``'s ``used_memory`` less what the connections' buffers hold right now."""
    info: dict[str, Any] = client.info("memory")
    return int(info["used_memory"]) - int(info.get("mem_clients_normal", 0))


def stored_bytes(source: redis.Redis, target: redis.Redis) -> int:
    """What ``source``'s keys take on ``target``, an empty redis-server of the same build: each
    key copied with DUMP/RESTORE (same encoding, same TTL), ``used_memory`` read before and after.
    The service's Redis cannot say this itself: its ``used_memory`` also counts what the traffic
    left allocated (hundreds of KB that no key holds, already before the first upload)."""
    target.flushall()
    empty = used_memory(target)
    names = list(source.scan_iter(count=1000))
    for start in range(0, len(names), 200):
        chunk = names[start : start + 200]
        read = source.pipeline(transaction=False)
        for name in chunk:
            read.dump(name)
            read.pttl(name)
        answers = read.execute()
        write = target.pipeline(transaction=False)
        for name, payload, ttl in zip(chunk, answers[::2], answers[1::2], strict=True):
            if payload is not None and ttl != -2:
                write.restore(name, max(int(ttl), 0), payload)
        write.execute()
    return steady_used_memory(target) - empty


def steady_used_memory(client: redis.Redis, deadline_s: float = 10.0) -> int:
    """``used_memory`` once two reads 0.2 s apart agree: a key table that just grew past a power of
    two is moved to its new size in the background, and until then both sizes are allocated."""
    last, until = used_memory(client), time.monotonic() + deadline_s
    while time.monotonic() < until:
        time.sleep(0.2)  # polling Redis's own background work, up to the deadline
        now = used_memory(client)
        if now == last:
            return now
        last = now
    return last


def classes(client: redis.Redis) -> list[KeyClass]:
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, -1])
    for raw in client.scan_iter(count=1000):
        key = raw.decode()
        pipe = client.pipeline(transaction=False)
        pipe.memory_usage(key, samples=0)
        pipe.ttl(key)
        size, ttl = pipe.execute()
        if size is None:
            continue  # expired meanwhile
        total = totals[key_class(key)]
        total[0] += 1
        total[1] += int(size)
        total[2] = max(total[2], int(ttl))
    return sorted((KeyClass(name, *values) for name, values in totals.items()), key=lambda c: -c.bytes)


def a_day_later(client: redis.Redis) -> int:
    """Delete what a day would expire; returns how many keys went."""
    short = [raw for raw in client.scan_iter(count=1000) if 0 <= int(client.ttl(raw)) <= DAY_S]
    for start in range(0, len(short), 500):
        client.delete(*short[start : start + 500])
    tomorrow = time.time() + DAY_S
    for raw in client.scan_iter(match="rq:*", count=1000):
        if client.type(raw) == b"zset":
            client.zremrangebyscore(raw, "-inf", tomorrow)
    # The next decision a day later trims the stream's entries older than a day: all of these.
    client.xtrim(STREAM, minid=str(int(tomorrow * 1000) - STREAM_KEEP_S * 1000), approximate=False)
    return len(short)


def measure(client: redis.Redis, target: redis.Redis, uploads: int, empty: int) -> Footprint:
    after_burst = stored_bytes(client, target)
    census = tuple(classes(client))
    a_day_later(client)
    return Footprint(uploads, empty, after_burst, stored_bytes(client, target), census, int(client.xlen(STREAM)))


class MeasuredBurst(Burst):
    """The burst benchmark's run, with ``used_memory`` read before the first upload and the
    footprint measured once every job ran (before the stack stops)."""

    empty = 0
    footprint: Footprint | None = None

    def __init__(self, workload: Workload, args: argparse.Namespace, target: redis.Redis) -> None:
        super().__init__(workload, args)
        self.target = target

    def _upload(self, stack: LocalStack, folder_id: str, inbox: bool) -> dict[str, float]:
        with stack.redis() as client:
            self.empty = stored_bytes(client, self.target)
        return super()._upload(stack, folder_id, inbox)

    def _collect(
        self, stack: LocalStack, folder_id: str, uploaded_at: dict[str, float], started_wall: float, result: RunResult
    ) -> None:
        super()._collect(stack, folder_id, uploaded_at, started_wall, result)
        with stack.redis() as client:
            self.footprint = measure(client, self.target, len(uploaded_at), self.empty)


# -- sizing ----------------------------------------------------------------------------------------


DECISIONS_CLASS = key_class(PER_FILE.format(file_id="0f"))


def daily_cost(footprint: Footprint, per_day: int, settings: Settings, retention_days: float) -> int:
    """Bytes at steady state for ``per_day`` uploads a day, a year in (see the module's doc): a
    class of per-file keys costs ``per_day x days kept x bytes per upload``, the stream its capped
    size, a fixed key (metrics, a registry) its size once."""
    total = footprint.empty
    for cls in footprint.classes:
        factor = footprint.kept_factor if cls.long_lived else footprint.short_factor
        if cls.name == STREAM:
            per_entry = cls.bytes * factor / max(footprint.stream_entries, 1)
            a_day = per_day * footprint.stream_entries / footprint.uploads * STREAM_KEEP_S / DAY_S
            total += int(min(a_day, settings.autostack_decision_log_max) * per_entry)
        elif cls.name.endswith(":*") or cls.name == WRITES_KEY:
            days = retention_days if cls.name == DECISIONS_CLASS else cls.kept_days
            total += int(cls.bytes * factor / footprint.uploads * per_day * days)
        else:
            total += int(cls.bytes * factor)
    return total


def _mb(size: float) -> str:
    return f"{size / 1e6:,.1f} MB" if size < 1e9 else f"{size / 1e9:,.2f} GB"


def print_report(footprint: Footprint, settings: Settings) -> dict[str, Any]:
    uploads = footprint.uploads
    print(f"  stored (used_memory on an empty server): before {footprint.empty:,} B; after the burst ", end="")
    print(f"{footprint.after_burst:,} B; a day later {footprint.after_a_day:,} B")
    fresh, kept = footprint.per_upload(footprint.after_burst), footprint.per_upload(footprint.after_a_day)
    print(f"  per accepted upload: {fresh:,.0f} B right after the burst, ", end="")
    print(f"{kept:,.0f} B kept beyond a day (goal <= {GOAL_BYTES} B: {'met' if kept <= GOAL_BYTES else 'MISSED'})")
    print(f"\n  {'key class':<40}{'keys':>7}{'bytes':>11}{'per upload':>12}{'TTL':>10}")
    for cls in footprint.classes:
        ttl = "none" if cls.ttl_s < 0 else f"{cls.ttl_s / DAY_S:.1f} d" if cls.ttl_s >= DAY_S else f"{cls.ttl_s} s"
        print(f"  {cls.name:<40}{cls.keys:>7}{cls.bytes:>11,}{cls.bytes / uploads:>12,.0f}{ttl:>10}{cls.note}")
    decisions = next((c for c in footprint.classes if c.name == DECISIONS_CLASS), None)
    per_retention_day = decisions.bytes / uploads * footprint.kept_factor if decisions else 0.0
    default = settings.autostack_decision_retention_days
    rows = {per_day: daily_cost(footprint, per_day, settings, default) for per_day in DAILY}
    shorter = {per_day: daily_cost(footprint, per_day, settings, 30) for per_day in DAILY}
    print(f"\n  sizing: Redis at steady state, decisions kept {default} days (the default) or 30 days, the stream")
    print(f"  capped at {settings.autostack_decision_log_max:,} entries; a day of retention costs a day's uploads")
    print(f"  {'uploads a day':>15}{f'{default} days':>12}{'30 days':>12}{'a day of retention':>20}")
    for per_day, size in rows.items():
        retention = per_retention_day * per_day
        print(f"  {per_day:>15,}{_mb(size):>12}{_mb(shorter[per_day]):>12}{_mb(retention):>20}")
    return {
        "uploads": uploads,
        "empty_bytes": footprint.empty,
        "bytes_per_upload_after_burst": round(footprint.per_upload(footprint.after_burst)),
        "bytes_per_upload_kept": round(kept),
        "goal_bytes": GOAL_BYTES,
        "goal_met": kept <= GOAL_BYTES,
        "decision_bytes_per_upload_per_retention_day": round(per_retention_day, 2),
        "by_class": {cls.name: round(cls.bytes / uploads, 1) for cls in footprint.classes if cls.long_lived},
        "sizing_bytes": {str(per_day): size for per_day, size in rows.items()},
        "sizing_bytes_30_days": {str(per_day): size for per_day, size in shorter.items()},
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.4, help="fraction of the burst's 250 groups and 200 decoys")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=20250606)
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 1 or args.workers < 1:
        parser.error("--scale must be in (0, 1] and --workers at least 1")
    # What Burst reads of the burst benchmark's own arguments.
    args.upload_threads, args.inflight, args.progress_s = 16, 40, 10.0
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    workload = make_workload(args.scale, args.seed)
    print(f"memory bench: one burst of {len(workload.uploads)} uploads, {args.workers} workers", flush=True)
    child, url = start_redis(log_dir=Path(tempfile.mkdtemp(prefix="autostack-memory-")))
    try:
        with redis.Redis.from_url(url) as target:
            burst = MeasuredBurst(workload, args, target)
            result = burst.run(Variant("autostack", args.workers), args.timeout)
    finally:
        child.stop()
    if not result.ok or burst.footprint is None:
        print(f"the burst went wrong: {result.error or '; '.join(result.problems[:3])}")
        return 1
    settings = load_settings({})  # the defaults: the stream's cap, the retention
    record = print_report(burst.footprint, settings)
    record["load"] = [round(value, 2) for value in result.load]
    print("RESULT " + json.dumps(record, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
