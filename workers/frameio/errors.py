"""The small exception hierarchy: retryable failures versus permanent ones.

The retry decision is the pure predicate :func:`is_retryable`; messages carry the endpoint and the
status, never a token, a secret or a request body.
"""

from __future__ import annotations


class AutostackError(Exception):
    """Base of every error autostack raises on purpose."""


class FrameioError(AutostackError):
    """Frame.io answered with an error, or could not be reached. ``code`` names a failure that has
    no HTTP status (None: the status says it)."""

    code: str | None = None

    def __init__(self, endpoint: str, status: int | None, detail: str = "") -> None:
        self.endpoint = endpoint
        self.status = status
        self.detail = detail
        where = f"{endpoint}: HTTP {status}" if status is not None else endpoint
        super().__init__(f"{where}: {detail}" if detail else where)


class RetryableError(FrameioError):
    """Worth trying again later: rate limited, a server error, a timeout, a dropped connection."""

    def __init__(self, endpoint: str, status: int | None, detail: str = "", retry_after: float | None = None):
        super().__init__(endpoint, status, detail)
        self.retry_after = retry_after


class RateLimited(RetryableError):
    """HTTP 429."""


class Throttled(RateLimited):
    """Our own limiter asks for a wait longer than a worker should sleep: try again in ``wait`` s.

    No request was sent. Retryable, with ``retry_after = wait`` and ``status = None``."""

    def __init__(self, endpoint: str, wait: float) -> None:
        super().__init__(endpoint, None, f"rate limited here, next call in {wait:.2f} s", retry_after=wait)
        self.wait = wait


class ServerError(RetryableError):
    """HTTP 5xx (Frame.io asks for at least 30 s before the next try)."""


class TransportError(RetryableError):
    """No answer: a timeout or a dropped connection. A write may or may not have happened."""


class StaleRead(RetryableError):
    """What Frame.io showed is behind what it did: a write planned from its reads was refused,
    a file a webhook named is not shown yet, or a read-back lacks a write Frame.io accepted.
    Reads may lag writes (undocumented), so read again a little later (1 s doubling)."""


class PermanentError(FrameioError):
    """Trying again with the same input cannot help."""


class Unauthorized(PermanentError):
    """HTTP 401: the token is missing, invalid or expired."""


class Forbidden(PermanentError):
    """HTTP 403."""


class NotFound(PermanentError):
    """HTTP 404."""


class Conflict(PermanentError):
    """HTTP 409."""


class Unprocessable(PermanentError):
    """HTTP 422 (or 400): Frame.io refused the request as it stands."""


_BY_STATUS: dict[int, type[PermanentError]] = {
    400: Unprocessable,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: Unprocessable,
}


def error_for_status(endpoint: str, status: int, detail: str, retry_after: float | None) -> FrameioError:
    """The exception that an HTTP error status maps to."""
    if status == 429:
        return RateLimited(endpoint, status, detail, retry_after)
    if status >= 500 or status == 408:
        return ServerError(endpoint, status, detail, retry_after)
    return _BY_STATUS.get(status, PermanentError)(endpoint, status, detail)


def is_retryable(error: BaseException) -> bool:
    """True when the same job may succeed if it runs again later."""
    return isinstance(error, RetryableError)


def failure_code(error: FrameioError) -> str:
    """The decision code of a file this error failed: the error's own code, else ``http-<status>``."""
    return error.code or f"http-{error.status}"
