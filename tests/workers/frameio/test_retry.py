"""The retry policy as a table: (error, attempt, rand) -> delay bounds, or None."""

from __future__ import annotations

import pytest

from workers.frameio.errors import (
    Conflict,
    FrameioError,
    NotFound,
    PermanentError,
    RateLimited,
    RetryableError,
    ServerError,
    Throttled,
    TransportError,
    Unauthorized,
    Unprocessable,
)
from workers.frameio.retry import MAX_ATTEMPTS, is_write, retry_delay
from workers.stacking.locks import LockLost


def r429(retry_after: float | None = None) -> RateLimited:
    return RateLimited("create_stack", 429, "slow down", retry_after)


def r5xx(status: int = 503, retry_after: float | None = None) -> ServerError:
    return ServerError("show_file", status, "", retry_after)


def timeout() -> TransportError:
    return TransportError("move_file", None, "timed out")


@pytest.mark.parametrize(
    ("error", "attempt", "rand", "low", "high"),
    [
        # 429 with Retry-After: exactly that, whatever the attempt and the jitter.
        (r429(7.0), 1, 0.0, 7.0, 7.0),
        (r429(7.0), 5, 0.99, 7.0, 7.0),
        (r429(0.5), 1, 0.5, 0.5, 0.5),
        (r429(-3.0), 1, 0.5, 0.0, 0.0),
        # 429 without: >= 1 s, doubling per attempt, up to +25 % jitter, capped at 60 s.
        (r429(), 1, 0.0, 1.0, 1.0),
        (r429(), 1, 0.999, 1.0, 1.25),
        (r429(), 2, 0.0, 2.0, 2.0),
        (r429(), 3, 0.5, 4.0, 5.0),
        (r429(), 6, 0.0, 32.0, 32.0),
        (r429(), 7, 0.0, 60.0, 60.0),
        (r429(), 7, 0.999, 60.0, 60.0),
        # 5xx: >= 30 s, doubling, jitter up to +100 %, capped at 15 min; a longer Retry-After wins.
        (r5xx(500), 1, 0.0, 30.0, 30.0),
        (r5xx(502), 1, 0.999, 30.0, 60.0),
        (r5xx(503), 2, 0.5, 60.0, 120.0),
        (r5xx(504), 4, 0.999, 240.0, 480.0),
        (r5xx(500), 6, 0.0, 900.0, 900.0),
        (r5xx(503, retry_after=5.0), 1, 0.0, 30.0, 30.0),
        (r5xx(503, retry_after=120.0), 1, 0.0, 120.0, 120.0),
        (ServerError("show_file", 408, ""), 1, 0.0, 30.0, 30.0),
        # Timeouts and dropped connections: small start, doubling, x0.5 to x1.5, capped at 5 min.
        (timeout(), 1, 0.0, 0.5, 0.5),
        (timeout(), 1, 0.999, 0.5, 1.5),
        (timeout(), 3, 0.5, 4.0, 4.0),
        (TransportError("show_file", None, "ConnectError"), 7, 0.999, 95.0, 96.0),
        (TransportError("show_file", None, "ConnectError"), 7, 0.0, 32.0, 32.0),
        (RetryableError("show_file", None, "other"), 2, 0.0, 1.0, 1.0),
        # Our own limiter: its wait plus at most 10 %, even far past MAX_ATTEMPTS.
        (Throttled("create_stack", 12.0), 1, 0.0, 12.0, 12.0),
        (Throttled("create_stack", 12.0), 1, 0.999, 12.0, 13.2),
        (Throttled("create_stack", 3.0), MAX_ATTEMPTS + 50, 0.0, 3.0, 3.0),
    ],
)
def test_retryable_errors_wait_within_bounds(
    error: BaseException, attempt: int, rand: float, low: float, high: float
) -> None:
    delay = retry_delay(error, attempt, rand)
    assert delay is not None
    assert low <= delay <= high


@pytest.mark.parametrize(
    "error",
    [
        Unauthorized("show_file", 401),
        NotFound("show_file", 404),
        Conflict("create_stack", 409),
        Unprocessable("reorder_stack", 422),
        PermanentError("show_file", 418),
        FrameioError("show_file", 200, "the answer is not JSON"),
        LockLost("lost"),
        ValueError("a bug"),
        KeyboardInterrupt(),
    ],
)
def test_permanent_and_foreign_errors_are_never_retried(error: BaseException) -> None:
    assert retry_delay(error, 1, 0.5) is None


@pytest.mark.parametrize("error", [r429(), r429(3.0), r5xx(), timeout()])
def test_gives_up_after_the_last_attempt(error: BaseException) -> None:
    assert retry_delay(error, MAX_ATTEMPTS - 1, 0.5) is not None
    assert retry_delay(error, MAX_ATTEMPTS, 0.5) is None
    assert retry_delay(error, MAX_ATTEMPTS + 1, 0.5) is None


@pytest.mark.parametrize("error", [r429(), r5xx(), timeout()])
def test_the_wait_never_shrinks_from_one_attempt_to_the_next(error: BaseException) -> None:
    for rand in (0.0, 0.5, 0.999):
        delays = [retry_delay(error, attempt, rand) or -1.0 for attempt in range(1, MAX_ATTEMPTS)]
        assert min(delays) > 0
        assert delays == sorted(delays)


def test_429_without_retry_after_at_least_doubles_until_the_cap() -> None:
    delays = [retry_delay(r429(), attempt, 0.0) for attempt in range(1, MAX_ATTEMPTS)]
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0]


@pytest.mark.parametrize(("attempt", "rand"), [(0, 0.5), (-1, 0.5), (1, 1.0), (1, -0.1)])
def test_nonsense_inputs_are_refused(attempt: int, rand: float) -> None:
    with pytest.raises(ValueError, match="attempt"):
        retry_delay(r429(), attempt, rand)


@pytest.mark.parametrize(
    ("endpoint", "write"),
    [
        ("show_file", False),
        ("file_status", False),
        ("list_folder_children", False),
        ("show_stack", False),
        ("list_stack_children", False),
        ("show_folder", False),
        ("list_stacks", False),
        ("create_stack", True),
        ("move_file", True),
        ("reorder_stack", True),
        ("update_file", True),
        ("webhooks_create", True),
        ("something_new", True),
    ],
)
def test_is_write(endpoint: str, write: bool) -> None:
    assert is_write(endpoint) is write
