"""Nothing autostack writes to Redis lives forever: after a real burst through the whole service
(and an undo, which leaves a hold), every key has a TTL or is one of the capped structures below.

``noeviction`` means a full Redis refuses webhooks, so a key that grows with the uploads and never
expires would, in time, stop the front door. A new key without a TTL fails this test until it gets
one or is listed here with the cap that bounds it (read from the code that writes it).
"""

from __future__ import annotations

import contextlib
import fnmatch
import subprocess
import time
from collections.abc import Callable, Iterator

import pytest
import redis
from rq.job import Job, JobStatus

from service.launcher import LocalStack
from service.processes import autostack_argv
from tests.e2e.fault_tools import stacks
from workers import decisions
from workers.ingest import inbox
from workers.stacking import journal

pytestmark = pytest.mark.e2e

DECISION_LOG_MAX = 1_000
GROUPS = 6  # groups of three versions, plus decoys
DECOYS = 4


def _stream_within_cap(client: redis.Redis, key: str) -> bool:
    # XADD MAXLEN ~ trims whole macro nodes (100 entries by default): the cap plus one node.
    return int(client.xlen(key)) <= DECISION_LOG_MAX + 100


def _writes_within_lifetime(client: redis.Redis, key: str) -> bool:
    oldest: list[tuple[bytes, float]] = client.zrange(key, 0, 0, withscores=True)  # type: ignore[assignment]
    return not oldest or oldest[0][1] >= time.time() - journal.WRITE_TTL_S - 60


def _one_field_per_series(client: redis.Redis, key: str) -> bool:
    # The metric families are fixed and their labels closed (outcome, reason code, endpoint, status).
    return int(client.hlen(key)) < 2_000


def _one_member_per_account(client: redis.Redis, key: str) -> bool:
    return int(client.scard(key)) <= 1  # one account in the sandbox


def _empty_once_idle(client: redis.Redis, key: str) -> bool:
    return int(client.llen(key) if client.type(key) == b"list" else client.zcard(key)) == 0


def _one_per_process(client: redis.Redis, key: str) -> bool:
    return int(client.scard(key)) <= 4  # the workers (and the scheduler) alive right now


def _registry_entries_expire(client: redis.Redis, key: str) -> bool:
    # RQ scores each entry by when it expires (result/failure TTL) and its maintenance drops them.
    latest: list[tuple[bytes, float]] = client.zrange(key, -1, -1, withscores=True)  # type: ignore[assignment]
    return not latest or latest[0][1] <= time.time() + 31 * 24 * 3600 or latest[0][1] == float("inf")


def _next_sweep(client: redis.Redis, key: str) -> bool:
    # The next periodic sweep waits to run (or runs right now); once run it has a result TTL.
    status = Job.fetch(key.removeprefix("rq:job:"), connection=client).get_status()
    return status in (JobStatus.SCHEDULED, JobStatus.QUEUED, JobStatus.STARTED)


def _singleton(client: redis.Redis, key: str) -> bool:
    return True  # one fixed key; it does not grow with the uploads


# Keys with no TTL, by pattern: what bounds each one, checked against what Redis holds.
CAPPED: dict[str, tuple[str, Callable[[redis.Redis, str], bool]]] = {
    decisions.STREAM: ("stream: the last day, XADD MAXLEN ~ AUTOSTACK_DECISION_LOG_MAX", _stream_within_cap),
    journal.WRITES_KEY: ("sorted set, entries past the journal's 90 days dropped per write", _writes_within_lifetime),
    "autostack:metrics": ("hash, one field per metric series (fixed families, closed labels)", _one_field_per_series),
    inbox.INBOXES_KEY: ("set of accounts with inbox entries, emptied by the drains", _one_member_per_account),
    "autostack:platform": ("one key: the learned answers (autostack doctor --probe)", _singleton),
    "autostack:ims:user:*": ("one hash per IMS client: the refresh token must outlive any TTL", _singleton),
    "rq:job:sweep_*": ("the next periodic sweep, one per interval, until it runs", _next_sweep),
    "rq:queues": ("set of queue names", _singleton),
    "rq:queue:*": ("RQ's queue list, empty when idle", _empty_once_idle),
    "rq:workers": ("set of live workers (RQ removes dead ones)", _one_per_process),
    "rq:workers:*": ("set of a queue's live workers", _one_per_process),
    "rq:*:autostack": ("RQ's job registries, entries scored by their expiry", _registry_entries_expire),
}


@pytest.fixture(scope="module", params=["inbox", "per-file"])
def busy_stack(request: pytest.FixtureRequest) -> Iterator[LocalStack]:
    env = {
        "AUTOSTACK_INBOX": "true" if request.param == "inbox" else "false",
        "AUTOSTACK_DECISION_LOG_MAX": str(DECISION_LOG_MAX),
        "AUTOSTACK_COALESCE_WINDOW_S": "0.5",
        "AUTOSTACK_BURST_HOLD_S": "1",
        "AUTOSTACK_RATE_WINDOW_SCALE": "0.01",
    }
    with contextlib.ExitStack() as cleanup:
        stack = LocalStack.start(workers=1, sandbox_config={"transcode_delay_s": 0.2}, env=env)
        cleanup.callback(stack.stop)
        yield stack


def _burst(stack: LocalStack) -> str:
    folder = stack.create_folder("burst")
    names = [f"sh{group:03d}_comp_v{version:03d}.mov" for group in range(GROUPS) for version in (1, 2, 3)]
    names += [f"A00{n}_C00{n}_0101XY.mov" for n in range(DECOYS)]
    for name in names:
        stack.upload(folder, name)
    stack.wait_idle(120, expected_deliveries=2 * len(stack.uploaded))
    return folder


def _undo_one(stack: LocalStack, folder: str) -> None:
    """Take one version back out of its stack: the undo leaves a hold on it."""
    file_id = stack.tree(folder)["stacks"][0]["children"][0]["id"]
    argv = autostack_argv("undo", "--file", file_id, "--by", "test", "--account", stack.state["account_id"])
    done = subprocess.run(argv, env=stack.env(), capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def _keys_without_ttl(client: redis.Redis) -> list[str]:
    keys = [key.decode() for key in client.scan_iter(count=1000)]
    return sorted(key for key in keys if client.ttl(key) == -1)


def test_every_key_autostack_writes_has_a_ttl_or_a_cap(busy_stack: LocalStack) -> None:
    folder = _burst(busy_stack)
    assert len(stacks(busy_stack.tree(folder))) == GROUPS
    _undo_one(busy_stack, folder)
    with busy_stack.redis() as client:
        unbounded = [key for key in _keys_without_ttl(client) if _pattern(key) is None]
        assert unbounded == [], "keys with neither a TTL nor a cap: " + ", ".join(unbounded)
        over = [key for key in _keys_without_ttl(client) if not CAPPED[_pattern(key) or ""][1](client, key)]
        assert over == [], "capped keys over their cap: " + ", ".join(over)
        assert int(client.xlen(decisions.STREAM)) > 0
        assert any(key.startswith(b"autostack:held:") for key in client.scan_iter("autostack:held:*"))


def _pattern(key: str) -> str | None:
    return next((pattern for pattern in CAPPED if fnmatch.fnmatchcase(key, pattern)), None)
