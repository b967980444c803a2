"""What the command line says when a command fails: one line naming the cause and the fix.

The one place that turns an exception into words and an exit code, for every command, read by
``service.cli.main`` (the traceback is only shown with ``--debug``). It reads exception types and
their codes (an HTTP status, ``errno``, an ``ssl`` error class), walking the chain of causes, and
never the message words. An exception's chain keeps its context even when raised ``from None``,
so the ``ssl.SSLCertVerificationError`` under a Frame.io ``TransportError`` is found too.
Exit code 2: the configuration must change (a setting, a file, a password); 1: anything else.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import redis
from redis.exceptions import AuthorizationError, NoPermissionError

from workers.frameio.accounts import NoCredential
from workers.frameio.auth import ImsRejected, ImsUnavailable
from workers.frameio.errors import (
    FrameioError,
    NotFound,
    PermanentError,
    RateLimited,
    RetryableError,
    Unauthorized,
)
from workers.frameio.usertoken import SignInRequired
from workers.naming.rules import RulesError
from workers.settings import ConfigError

CONFIGURATION = 2
FAILURE = 1


@dataclass(frozen=True)
class Failure:
    cause: str
    fix: str
    exit_code: int = FAILURE

    def line(self, command: str) -> str:
        return f"autostack {command}: {self.cause}; {self.fix}" if command else f"autostack: {self.cause}; {self.fix}"


_SETTINGS: tuple[tuple[type[Exception], str, str], ...] = (
    (ConfigError, "configuration error", "fix the setting named and run again"),
    (RulesError, "the rules file cannot be used", "correct the file and run again"),
)


def failure_for(exc: BaseException) -> Failure:
    """The line and exit code for ``exc``; an unforeseen error still gets one line."""
    for kind, what, fix in _SETTINGS:
        if isinstance(exc, kind):
            return Failure(f"{what}: {_flat(exc)}", fix, CONFIGURATION)
    if isinstance(exc, redis.RedisError):
        return _redis(exc)
    if isinstance(exc, FrameioError):
        return _frameio(exc)
    if isinstance(exc, httpx.HTTPError):
        return _unreachable("the server", exc, "check the URL settings and the network")
    if isinstance(exc, OSError):
        return _os(exc)
    return Failure(f"unexpected error ({type(exc).__name__})", "run again with --debug for the traceback; report it")


def _redis(exc: redis.RedisError) -> Failure:
    if isinstance(exc, redis.AuthenticationError):
        return Failure(
            "Redis refused the password (or user) in REDIS_URL",
            "set the right one: redis://:PASSWORD@HOST:PORT/DB",
            CONFIGURATION,
        )
    if isinstance(exc, AuthorizationError | NoPermissionError):
        return Failure(
            "the Redis user in REDIS_URL may not run a command autostack needs",
            "grant it the commands in README's Redis section (or use another user)",
            CONFIGURATION,
        )
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
        return _unreachable("Redis at REDIS_URL", exc, "start Redis or correct REDIS_URL")
    return Failure(f"Redis refused a command ({type(exc).__name__})", "run again with --debug and report it")


# Frame.io's (and Adobe IMS's) answers, the first type that matches: cause, fix, exit code.
_FRAMEIO: tuple[tuple[type[FrameioError], str, str, int], ...] = (
    (SignInRequired, "no usable Frame.io sign-in", "run `autostack login`", CONFIGURATION),
    (
        ImsRejected,
        "{where} refused the token request (HTTP {status})",
        "check FRAMEIO_CLIENT_ID, FRAMEIO_CLIENT_SECRET and FRAMEIO_IMS_SCOPES",
        CONFIGURATION,
    ),
    (
        Unauthorized,
        "{where} refused the token (HTTP 401)",
        "renew FRAMEIO_TOKEN (or the account's row in FRAMEIO_ACCOUNTS_FILE) or run `autostack login`; "
        "`autostack doctor` tells which",
        CONFIGURATION,
    ),
    (NotFound, "{where} knows no such resource (HTTP 404)", "check the ids given (--folder, --workspace...)", 1),
    (RateLimited, "{where} is rate limiting autostack", "run again in a minute", FAILURE),
)


def _frameio(exc: FrameioError) -> Failure:
    if isinstance(exc, NoCredential):
        fix = "add the account's row to FRAMEIO_ACCOUNTS_FILE, or set a default credential (FRAMEIO_TOKEN, ...)"
        return Failure(f"no Frame.io credential for account {exc.account_id}", fix, CONFIGURATION)
    ims = isinstance(exc, ImsRejected | ImsUnavailable)
    where = "Adobe IMS" if ims else f"Frame.io ({exc.endpoint})"
    for kind, cause, fix, code in _FRAMEIO:
        if isinstance(exc, kind):
            return Failure(cause.format(where=where, status=exc.status), fix, code)
    if isinstance(exc, RetryableError) and exc.status is None:
        setting = "FRAMEIO_IMS_URL" if ims else "FRAMEIO_BASE_URL"
        return _unreachable(where, exc, f"check {setting} and the network, then run again")
    if isinstance(exc, RetryableError):
        return Failure(f"{where} answered HTTP {exc.status}", "it is unwell: run again later")
    if isinstance(exc, PermanentError) and exc.status is not None:
        return Failure(f"{where} refused the request (HTTP {exc.status})", "check the ids and options given")
    return Failure(f"{where} gave an unusable answer ({_flat(exc)})", "run again with --debug and report it")


def _unreachable(who: str, exc: BaseException, fix: str) -> Failure:
    """No answer: a TLS certificate not trusted, a handshake refused, a timeout, a refused connection."""
    for link in _chain(exc):
        if isinstance(link, ssl.SSLCertVerificationError):
            return Failure(
                f"{who}: its TLS certificate is not trusted ({link.verify_message})",
                "check the URL's host name; behind a TLS-inspecting proxy, set SSL_CERT_FILE to its CA bundle",
                CONFIGURATION,
            )
        if isinstance(link, ssl.SSLError):
            return Failure(f"{who}: the TLS handshake failed ({link.reason})", "check the URL's scheme and port")
    for link in _chain(exc):
        if isinstance(link, httpx.TimeoutException | redis.TimeoutError | TimeoutError):
            return Failure(f"{who} did not answer in time", fix)
        if isinstance(link, OSError) and link.errno is not None:
            return Failure(f"{who} cannot be reached ({link.strerror or type(link).__name__})", fix)
    return Failure(f"{who} cannot be reached ({_innermost(exc)})", fix)


def _os(exc: OSError) -> Failure:
    """A file that cannot be read or written."""
    where = f" ({exc.filename})" if exc.filename else ""
    return Failure(f"{exc.strerror or type(exc).__name__}{where}", "check the path and its permissions")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or link.__context__


def _innermost(exc: BaseException) -> str:
    return type(list(_chain(exc))[-1]).__name__


def _flat(exc: BaseException) -> str:
    return " ".join(str(exc).split())
