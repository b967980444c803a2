"""When to try a failed Frame.io call again: a pure policy (no I/O, the randomness is passed in).

Frame.io's guidance (``docs/frameio.md`` §4 and §5): after a 429 wait at least 1 s and at least
double the wait each time; after a 5xx wait at least 30 s, with a limited number of tries,
exponential back-off and random jitter. Timeouts and dropped connections back off from a small
start. Permanent errors are never retried.

A write is never replayed blindly: after any failure of a write (:func:`is_write`) the job
re-reads Frame.io's state before it writes again, because a timeout or a 5xx may hide a write
that did happen. This module only says *when* the next attempt may start; the job decides *what*
it does then.
"""

from __future__ import annotations

from workers.frameio.errors import RateLimited, RetryableError, ServerError, Throttled

#: Attempts in all, the first included; after the MAX_ATTEMPTS-th failure we give up.
MAX_ATTEMPTS = 8

RATE_LIMITED_BASE_S = 1.0
RATE_LIMITED_CAP_S = 60.0
SERVER_ERROR_BASE_S = 30.0
SERVER_ERROR_CAP_S = 15 * 60.0
TRANSPORT_BASE_S = 1.0
TRANSPORT_CAP_S = 5 * 60.0

#: Endpoint classes that only read. Everything else, including a name we do not know, is a write.
READS = frozenset(
    {
        "show_file",
        "file_status",
        "show_folder",
        "list_folder_children",
        "show_stack",
        "list_stacks",
        "list_stack_children",
        "webhooks_list",
        "webhooks_show",
        "me",
    }
)


def is_write(endpoint: str) -> bool:
    """True when the call may change Frame.io's state (unknown endpoints count as writes)."""
    return endpoint not in READS


def retry_delay(error: BaseException, attempt: int, rand: float) -> float | None:
    """Seconds to wait before attempt ``attempt + 1`` after attempt ``attempt`` (1-based) failed
    with ``error``; None to give up. ``rand`` is uniform in [0, 1) and only sets the jitter.

    * our own limiter said wait (:class:`Throttled`): its wait plus up to 10 % jitter (so parked
      jobs do not all come back at once); this is not a failed attempt, so it never gives up;
    * 429: Frame.io's Retry-After when given, else 1 s doubling per attempt, up to +25 % jitter,
      at most 60 s;
    * 5xx (and 408): 30 s doubling per attempt plus up to 100 % jitter, at most 15 min, never
      less than a Retry-After;
    * timeouts and dropped connections (and any other retryable error): 1 s doubling per attempt
      times 0.5 to 1.5, at most 5 min;
    * anything else: None. After MAX_ATTEMPTS failed attempts: None.
    """
    if attempt < 1 or not 0.0 <= rand < 1.0:
        raise ValueError(f"attempt must be >= 1 and rand in [0, 1), not {attempt} and {rand}")
    if isinstance(error, Throttled):
        return max(0.0, error.retry_after or 0.0) * (1.0 + 0.1 * rand)
    if not isinstance(error, RetryableError) or attempt >= MAX_ATTEMPTS:
        return None
    return _frameio_delay(error, attempt, rand)


def _frameio_delay(error: RetryableError, attempt: int, rand: float) -> float:
    if isinstance(error, RateLimited):
        if error.retry_after is not None:
            return max(0.0, error.retry_after)
        return _backoff(RATE_LIMITED_BASE_S, attempt, 1.0 + 0.25 * rand, RATE_LIMITED_CAP_S)
    if isinstance(error, ServerError):
        delay = _backoff(SERVER_ERROR_BASE_S, attempt, 1.0 + rand, SERVER_ERROR_CAP_S)
        return max(delay, error.retry_after or 0.0)
    # TransportError (a timeout, a dropped connection) and any other retryable failure.
    return _backoff(TRANSPORT_BASE_S, attempt, 0.5 + rand, TRANSPORT_CAP_S)


def _backoff(base: float, attempt: int, jitter: float, cap: float) -> float:
    return min(cap, base * 2.0 ** (attempt - 1) * jitter)
