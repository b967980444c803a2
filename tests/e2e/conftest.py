"""One local stack for the end-to-end tests: redis-server, the sandbox, uvicorn and an RQ worker,
each in its own process, wired as a deployment wires them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from service.launcher import LocalStack
from tests.e2e.fault_tools import OwnRedis
from workers import decisions

pytestmark = pytest.mark.e2e


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    """A redis-server of the test's own, with AOF, that the test may kill and start again."""
    server = OwnRedis(tmp_path / "redis").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStack]:
    stack = LocalStack.start(workers=1, sandbox_config={"transcode_delay_s": 0.2})
    try:
        yield stack
    finally:
        stack.stop()


ACCOUNTS_ENV = {"AUTOSTACK_SWEEP_INTERVAL_S": "0", "AUTOSTACK_RETRY_SCALE": "0.05"}


def _two_accounts(workers: int) -> Iterator[LocalStack]:
    """The sandbox's first account (the default token) and one with its own token (the accounts file)."""
    stack = LocalStack.start(workers=workers, sandbox_config={"transcode_delay_s": 0.2}, env=ACCOUNTS_ENV, accounts=2)
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def two_accounts() -> Iterator[LocalStack]:
    yield from _two_accounts(workers=2)


@pytest.fixture(scope="module")
def own_tokens() -> Iterator[LocalStack]:
    """Two accounts and one worker, which a test may replace (to read a changed accounts file)."""
    yield from _two_accounts(workers=1)


@pytest.fixture
def folder(local_stack: LocalStack, request: pytest.FixtureRequest) -> str:
    """A fresh folder per test, so tests share the processes but not the files."""
    return local_stack.create_folder(request.node.name[:60])


@pytest.fixture
def wait_decided(local_stack: LocalStack) -> Callable[..., None]:
    """Wait until every upload so far has had both its webhooks delivered and every job (the
    coalescing waits included) has run; then check the given files have a final decision."""

    def wait(*file_ids: str, timeout: float = 60.0) -> None:
        local_stack.wait_idle(timeout, expected_deliveries=2 * len(local_stack.uploaded))
        client = local_stack.redis()
        try:
            for file_id in file_ids:
                outcomes = {decision.outcome for decision in decisions.for_file(client, file_id)}
                assert outcomes - {"waiting"}, f"no final decision for {file_id}: {outcomes}"
        finally:
            client.close()

    return wait
