"""Webhook ingest benchmark (issue 7): the real endpoint against a bare 202 on the same server stack.

Run: ``python -m tests.bench.bench_ingest [--seconds 10] [--rate 500] [--connections 8]``.

**Servers**, each uvicorn in its own process, started the same way (``uvicorn.run`` defaults,
access log off, log level warning):

* ``bare``: :data:`bare_app` below, a Starlette app whose ``POST /webhooks/frameio`` reads the
  body and answers 202 with a small JSON body: the cost of uvicorn + Starlette alone;
* ``webhook``: ``autostack serve`` on a throwaway redis-server (AOF on, ``appendfsync everysec``,
  ``noeviction``: the documented production settings): verify the v0 signature, parse, filter,
  dedupe (SET NX), enqueue the RQ job, answer 202.

**Load**: a lean asyncio client on raw keep-alive sockets (one ``asyncio.Protocol`` per connection,
no HTTP library), sending the same bytes to both servers: every request a distinct, validly signed
``file.upload.completed`` event (its own file id, so none is deduplicated). Two modes:

* ``max``: ``--connections`` closed loops, each sends its next request when the answer comes;
* ``500``: open loop at a fixed ``--rate``; a request's latency is counted from the moment it was
  due (so a stall is not hidden by the requests it delays: no coordinated omission).

Each mode runs ``--seconds`` after ``--warmup`` seconds of unmeasured load. After a webhook run the
files waiting for a decision (Redis is emptied before the run) are counted against the 202
answers: the entries of the accounts' inboxes, plus the per-file jobs in ``rq:queue:<queue>``
(the account's one drain job is not a file).

Each variant ends with one ``RESULT {json}`` line: ``variant``, ``rps``, ``p50_ms``, ``p99_ms``,
``ratio_to_bare`` (requests per second over the bare server's in the same mode), ``accepted``
(2xx answers), ``queued`` (files waiting in Redis; null for the bare server).

Goals (issue 7, on a 2-core machine): ``ratio_to_bare`` >= 0.3 at full speed, p99 < 25 ms at
500 req/s, ``accepted == queued``. The exit status is 1 when ``accepted != queued`` (a lost or an
invented job is a bug, not a slow machine), else 0; the speed goals are reported, not enforced.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import resource
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from service.processes import Child, autostack_argv, free_port, spawn, start_redis, wait_http
from workers.ingest.inbox import inbox_files
from workers.ingest.queue import DRAIN_PREFIX as DRAIN_JOB_PREFIX

PATH = "/webhooks/frameio"
SECRET = "bench-ingest-secret"
QUEUE = "bench-ingest"
REPO = Path(__file__).resolve().parents[2]


# -- the bare server -----------------------------------------------------------------------------


async def _accept(request: Request) -> JSONResponse:
    await request.body()
    return JSONResponse({"status": "queued", "job_id": "bare"}, status_code=202)


async def _healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


bare_app = Starlette(routes=[Route(PATH, _accept, methods=["POST"]), Route("/healthz", _healthz, methods=["GET"])])


# -- requests ------------------------------------------------------------------------------------

_BODY = (
    '{{"account":{{"id":"acc-bench"}},"project":{{"id":"proj-bench"}},'
    '"resource":{{"id":"{file_id}","type":"file"}},"type":"file.upload.completed",'
    '"user":{{"id":"user-bench"}},"workspace":{{"id":"ws-bench"}}}}'
)


class Requests:
    """Distinct signed deliveries: ``next()`` gives the raw bytes of the next one."""

    def __init__(self, port: int, prefix: str) -> None:
        self.head = f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        self.prefix = prefix
        self.count = 0
        self.key = SECRET.encode()

    def next(self) -> bytes:
        self.count += 1
        body = _BODY.format(file_id=f"{self.prefix}-{self.count:09d}").encode()
        stamp = str(int(time.time()))
        digest = hmac.new(self.key, b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
        head = (
            f"{self.head}Content-Length: {len(body)}\r\n"
            f"X-Frameio-Request-Timestamp: {stamp}\r\nX-Frameio-Signature: v0={digest}\r\n\r\n"
        )
        return head.encode() + body


# -- the load generator --------------------------------------------------------------------------


class Connection(asyncio.Protocol):
    """One keep-alive connection; one request in flight at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).lower()
        length = 0
        at = head.find(b"content-length:")
        if at >= 0:
            stop = head.find(b"\r\n", at)
            length = int(head[at + 15 : stop if stop >= 0 else len(head)])
        if len(self.buffer) < end + 4 + length:
            return
        status = int(head[9:12])
        del self.buffer[: end + 4 + length]
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(status)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"the server closed the connection: {exc}"))

    async def request(self, data: bytes) -> int:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return await self.waiter


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    seconds: float = 0.0

    def record(self, status: int, latency: float) -> None:
        self.latencies.append(latency)
        self.statuses[status] += 1

    @property
    def accepted(self) -> int:
        return sum(count for status, count in self.statuses.items() if 200 <= status < 300)

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile_ms(self, fraction: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def _connect(port: int, count: int) -> list[Connection]:
    loop = asyncio.get_running_loop()
    connections = []
    for _ in range(count):
        _, protocol = await loop.create_connection(Connection, "127.0.0.1", port)
        connections.append(protocol)
    return connections


async def closed_loops(port: int, requests: Requests, connections: int, seconds: float) -> Tally:
    """As fast as the server answers: each connection sends its next request on the last answer."""
    tally = Tally()
    pool = await _connect(port, connections)
    started = time.perf_counter()
    deadline = started + seconds
    clock = time.perf_counter

    async def loop(connection: Connection) -> None:
        while clock() < deadline:
            data = requests.next()
            sent = clock()
            status = await connection.request(data)
            tally.record(status, clock() - sent)

    try:
        await asyncio.gather(*(loop(connection) for connection in pool))
    finally:
        tally.seconds = time.perf_counter() - started
        for connection in pool:
            if connection.transport is not None:
                connection.transport.close()
    return tally


async def open_loop(port: int, requests: Requests, rate: float, seconds: float, connections: int) -> Tally:
    """``rate`` requests per second on a schedule; latency counted from when each was due."""
    tally = Tally()
    pool = await _connect(port, connections)
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for connection in pool:
        idle.put_nowait(connection)
    clock = time.perf_counter
    tasks: set[asyncio.Task[None]] = set()

    async def one(connection: Connection, due: float, data: bytes) -> None:
        status = await connection.request(data)
        tally.record(status, clock() - due)
        idle.put_nowait(connection)

    started = clock()
    total = int(rate * seconds)
    try:
        for index in range(total):
            due = started + index / rate
            wait = due - clock()
            if wait > 0:
                await asyncio.sleep(wait)
            connection = await idle.get()
            task = asyncio.create_task(one(connection, due, requests.next()))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
    finally:
        tally.seconds = clock() - started
        for connection in pool:
            if connection.transport is not None:
                connection.transport.close()
    return tally


# -- the run -------------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    port: int
    pid: int


def _process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process, all its threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot (Linux /proc)."""
    values = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


class CpuMeter:
    """Who used the CPU during a run: the server, Redis, this load generator, the whole machine (other
    processes included: on a shared machine their load shows here). Empty where /proc is missing."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.before: dict[str, float] = {}
        self.machine: tuple[int, int] = (0, 0)
        self.started = 0.0

    def _sample(self) -> dict[str, float]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        sample = {name: _process_cpu_s(pid) for name, pid in self.pids.items()}
        sample["load generator"] = usage.ru_utime + usage.ru_stime
        return sample

    def start(self) -> None:
        try:
            self.before, self.machine = self._sample(), _machine_ticks()
        except (OSError, IndexError, ValueError):
            self.before = {}
        self.started = time.perf_counter()

    def stop(self) -> dict[str, float]:
        """Per cent of one CPU for each process, and ``machine`` per cent of all CPUs busy."""
        if not self.before:
            return {}
        elapsed = time.perf_counter() - self.started
        after, (busy, total) = self._sample(), _machine_ticks()
        shares = {name: 100 * (after[name] - self.before[name]) / elapsed for name in after}
        shares["machine"] = 100 * (busy - self.machine[0]) / max(1, total - self.machine[1])
        return shares


def _start_servers(workdir: Path, children: list[Child]) -> tuple[Server, Server, str, int]:
    redis_child, redis_url = start_redis(appendonly=True, data_dir=workdir / "redis", log_dir=workdir)
    children.append(redis_child)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    bare_port, real_port = free_port(), free_port()
    bare_argv = [
        sys.executable, "-m", "uvicorn", "tests.bench.bench_ingest:bare_app",
        "--host", "127.0.0.1", "--port", str(bare_port), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    bare = spawn("bare", bare_argv, env, workdir)
    children.append(bare)
    real_env = {**env, "REDIS_URL": redis_url, "FRAMEIO_WEBHOOK_SECRETS": SECRET, "AUTOSTACK_QUEUE": QUEUE}
    real = spawn(
        "webhook", autostack_argv("serve", "--port", str(real_port), "--log-level", "warning"), real_env, workdir
    )
    children.append(real)
    wait_http(bare, f"http://127.0.0.1:{bare_port}/healthz")
    wait_http(real, f"http://127.0.0.1:{real_port}/readyz")
    return (
        Server("bare", bare_port, bare.process.pid),
        Server("webhook", real_port, real.process.pid),
        redis_url,
        redis_child.process.pid,
    )


def _describe(
    variant: str, tally: Tally, bare: Tally | None, queued: int | None, cpu: dict[str, float]
) -> dict[str, object]:
    ratio = tally.rps / bare.rps if bare is not None and bare.rps else 1.0
    statuses = ", ".join(f"{status}: {count}" for status, count in sorted(tally.statuses.items()))
    print(
        f"  {variant:<12} {tally.rps:>8.0f} req/s  p50 {tally.percentile_ms(0.50):6.2f} ms  "
        f"p99 {tally.percentile_ms(0.99):6.2f} ms  {ratio:5.2f}x bare  answers {{{statuses}}}"
        + (f"  queued {queued}" if queued is not None else ""),
        flush=True,
    )
    if cpu:
        ours = {name: share for name, share in cpu.items() if name != "machine"}
        others = max(0.0, cpu["machine"] * (os.cpu_count() or 1) - sum(ours.values()))
        shares = ", ".join(f"{name} {share:.0f}%" for name, share in ours.items())
        print(
            f"  {'':<12} CPU (% of one core): {shares}, everything else on the machine {others:.0f}%; "
            f"all CPUs {cpu['machine']:.0f}% busy",
            flush=True,
        )
    return {
        "variant": variant,
        "rps": round(tally.rps, 1),
        "p50_ms": round(tally.percentile_ms(0.50), 3),
        "p99_ms": round(tally.percentile_ms(0.99), 3),
        "ratio_to_bare": round(ratio, 3),
        "accepted": tally.accepted,
        "queued": queued,
    }


def waiting_files(client: redis.Redis) -> int:
    """Files accepted and not yet decided: inbox entries, and per-file jobs (not drain jobs)."""
    inboxed = inbox_files(client)
    job_ids: list[bytes] = client.lrange(f"rq:queue:{QUEUE}", 0, -1)  # type: ignore[assignment]
    return inboxed + sum(not job_id.startswith(DRAIN_JOB_PREFIX.encode()) for job_id in job_ids)


async def _measure(
    args: argparse.Namespace, bare: Server, real: Server, redis_url: str, redis_pid: int
) -> list[dict[str, object]]:
    client = redis.Redis.from_url(redis_url)
    results: list[dict[str, object]] = []
    try:
        modes = [("max", None), (f"{args.rate:g}", args.rate)]
        for mode, rate in modes:
            tallies: dict[str, Tally] = {}
            for server in (bare, real):
                requests = Requests(server.port, f"{server.name}-{mode}-{os.getpid()}")
                await closed_loops(server.port, requests, args.connections, args.warmup)
                client.flushdb()
                meter = CpuMeter({"server": server.pid, **({"redis": redis_pid} if server is real else {})})
                meter.start()
                if rate is None:
                    tally = await closed_loops(server.port, requests, args.connections, args.seconds)
                else:
                    tally = await open_loop(server.port, requests, rate, args.seconds, args.open_connections)
                cpu = meter.stop()
                tallies[server.name] = tally
                queued = waiting_files(client) if server is real else None
                results.append(
                    _describe(f"{server.name}-{mode}", tally, tallies["bare"] if server is real else None, queued, cpu)
                )
    finally:
        client.close()
    return results


def _verdict(results: list[dict[str, object]], rate: float) -> bool:
    by_name = {str(result["variant"]): result for result in results}
    full = by_name["webhook-max"]
    fixed = by_name[f"webhook-{rate:g}"]
    ratio_ok = float(str(full["ratio_to_bare"])) >= 0.3
    p99_ok = float(str(fixed["p99_ms"])) < 25.0
    counts_ok = all(r["accepted"] == r["queued"] for r in results if r["queued"] is not None)
    print(f"  goal ratio_to_bare >= 0.3 at full speed: {'met' if ratio_ok else 'NOT met'} ({full['ratio_to_bare']})")
    print(f"  goal p99 < 25 ms at {rate:g} req/s: {'met' if p99_ok else 'NOT met'} ({fixed['p99_ms']} ms)")
    print(f"  goal accepted == queued: {'met' if counts_ok else 'NOT met'}")
    return counts_ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each run")
    parser.add_argument("--rate", type=float, default=500.0, help="requests per second of the fixed-rate run")
    parser.add_argument("--connections", type=int, default=8, help="connections of the full-speed run")
    parser.add_argument("--open-connections", type=int, default=32, help="connection pool of the fixed-rate run")
    args, ignored = parser.parse_known_args(argv)
    if ignored:
        print(f"ingest bench: ignoring {' '.join(ignored)}", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="autostack-bench-ingest-"))
    print(
        f"ingest bench: {args.seconds:g} s per run after {args.warmup:g} s warm-up, {args.connections} connections "
        f"at full speed, {args.rate:g} req/s open loop; {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} before the run; logs in {workdir}",
        flush=True,
    )
    children: list[Child] = []
    try:
        bare, real, redis_url, redis_pid = _start_servers(workdir, children)
        results = asyncio.run(_measure(args, bare, real, redis_url, redis_pid))
    finally:
        for child in reversed(children):
            child.stop()
    print(f"  load average {os.getloadavg()[0]:.1f} after the run", flush=True)
    ok = _verdict(results, args.rate)
    for result in results:
        print("RESULT " + json.dumps(result), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
