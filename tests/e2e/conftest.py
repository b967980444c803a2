"""One local stack for the end-to-end tests: redis-server, the sandbox, uvicorn and an RQ worker,
each in its own process, wired as a deployment wires them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from service.launcher import LocalStack
from service.processes import wait_until
from workers import decisions

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStack]:
    stack = LocalStack.start(workers=1, sandbox_config={"transcode_delay_s": 0.2})
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def folder(local_stack: LocalStack, request: pytest.FixtureRequest) -> str:
    """A fresh folder per test, so tests share the processes but not the files."""
    return local_stack.create_folder(request.node.name[:60])


def decided(stack: LocalStack, file_id: str, event: str) -> bool:
    client = stack.redis()
    try:
        return any(decision.event == event for decision in decisions.for_file(client, file_id))
    finally:
        client.close()


@pytest.fixture
def wait_decided(local_stack: LocalStack) -> Callable[..., None]:
    """Wait until every file has a recorded decision for ``event`` (file.ready comes last)."""

    def wait(*file_ids: str, event: str = "file.ready", timeout: float = 60.0) -> None:
        wait_until(
            lambda: all(decided(local_stack, file_id, event) for file_id in file_ids),
            timeout,
            what=f"decisions for {len(file_ids)} file(s)",
        )

    return wait
