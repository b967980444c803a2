"""Where the Frame.io bearer token comes from: a static token, or Adobe IMS server-to-server.

A token source is what :class:`~workers.frameio.client.FrameioClient` takes as ``token``: called before
every request, it answers the bearer token to send; ``invalidate(token)`` is called once when
Frame.io answered 401 to ``token``.

:class:`ServerToServerToken` (OAuth ``client_credentials``, ``docs/frameio.md`` §7) keeps
one token for every worker of every machine in Redis (a hash at ``autostack:ims:token:<digest>``
with the token, when to refresh it and when it expires; the key's TTL is the expiry):

- A token is refreshed ``refresh_margin_s`` before it expires (at most half its lifetime before).
- One worker refreshes at a time, under a Redis lock. While it does, the others keep using the
  current token if it has not expired yet, and otherwise wait (polling Redis, ``wait_s`` at most)
  for the new one: one IMS call however many workers need a token.
- ``invalidate(token)`` drops the shared token only if it is still ``token``: a burst of 401s to
  the same token leads to one refresh, and a 401 to an old token never drops a newer one.
- A failed IMS request is remembered for ``failure_hold_s`` so the others raise the same error
  instead of asking IMS again (a still valid token keeps being used meanwhile).

IMS 4xx -> :class:`ImsRejected` (a :class:`~workers.frameio.errors.PermanentError`: fix the configuration);
429, 5xx, timeouts and dropped connections -> :class:`ImsUnavailable` (a
:class:`~workers.frameio.errors.RetryableError`). The client secret and the tokens never appear in a log
line, an exception message or a repr; only the token itself is stored, in Redis.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import httpx
import redis
from pydantic import SecretStr
from redis.exceptions import LockError

from workers.frameio.credential import record_static_rejection
from workers.frameio.errors import PermanentError, RetryableError
from workers.frameio.limiting import retry_after_s

log = logging.getLogger("autostack.auth")

TOKEN_PATH = "/ims/token/v3"  # noqa: S105 - a URL path, not a password
ENDPOINT = "ims_token"
KEY_PREFIX = "autostack:ims:token:"
DEFAULT_EXPIRES_IN_S = 86400.0  # what the SDK assumes when IMS leaves expires_in out

_INVALIDATE = """
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


@runtime_checkable
class TokenSource(Protocol):
    """The bearer token to send now, and what to do when Frame.io refused one."""

    def __call__(self) -> str: ...

    def invalidate(self, token: str) -> None: ...


class ImsRejected(PermanentError):
    """Adobe IMS refused the token request (4xx): client id, secret or scopes are wrong."""

    def __init__(self, status: int | None, error: str = "") -> None:
        detail = "Adobe IMS refused the token request" + (f" ({error})" if error else "")
        super().__init__(ENDPOINT, status, detail)
        self.error = error


class ImsUnavailable(RetryableError):
    """No token from Adobe IMS this time: rate limited, a server error, a timeout, a dropped
    connection, an unusable answer, or another worker's refresh that did not finish in time."""

    def __init__(self, status: int | None, detail: str, retry_after: float | None = None) -> None:
        super().__init__(ENDPOINT, status, f"Adobe IMS: {detail}", retry_after)
        self.reason = detail


class StaticToken:
    """``FRAMEIO_TOKEN``: the same token on every request; a 401 cannot be helped by asking again,
    but it is written down in Redis (by the token's fingerprint) for ``status``, ``/readyz`` and
    the metrics to say the token was rejected."""

    __slots__ = ("_account", "_clock", "_redis", "_secret")

    def __init__(
        self,
        secret: SecretStr,
        client: redis.Redis | None = None,
        clock: Callable[[], float] = time.time,
        account: str | None = None,
    ) -> None:
        """``account``: the account whose row of the accounts file holds the token (None: the
        default ``FRAMEIO_TOKEN``), named in the log line of a refusal."""
        if not secret.get_secret_value():
            raise ValueError("the static Frame.io token is empty")
        self._secret = secret
        self._redis = client
        self._clock = clock
        self._account = account

    def __call__(self) -> str:
        return self._secret.get_secret_value()

    def invalidate(self, token: str) -> None:
        """Nothing to refresh: the next call answers the same token. Note the refusal."""
        if self._redis is None:
            return
        try:
            record_static_rejection(self._redis, token, self._clock())
        except redis.RedisError as exc:
            log.warning("could not note the token's rejection in Redis (%s)", type(exc).__name__)
        if self._account is not None:
            log.error(
                "Frame.io refused the token of account %s (401): set a new token in its row of FRAMEIO_ACCOUNTS_FILE",
                self._account,
            )
            return
        log.error("Frame.io refused the static token (401): set a new FRAMEIO_TOKEN, or sign in with `autostack login`")

    def __repr__(self) -> str:
        account = "" if self._account is None else f", account={self._account!r}"
        return f"StaticToken(secret=SecretStr('**********'){account})"


@dataclass(frozen=True)
class Token:
    """An access token with when to refresh it and when it expires; from a user sign-in also the
    refresh token to send next (``refresh_token``) and the one it replaces (``replaces``)."""

    value: str = field(repr=False)
    refresh_at: float
    expires_at: float
    refresh_token: str | None = field(default=None, repr=False)
    replaces: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Sharing:
    """How a token is shared through Redis (the defaults are production's)."""

    refresh_margin_s: float = 300.0
    clock: Callable[[], float] = time.time
    lock_ttl_s: float = 30.0
    wait_s: float = 15.0
    poll_s: float = 0.05
    failure_hold_s: float = 5.0
    pause: Callable[[float], None] = time.sleep


class SharedToken:
    """An IMS access token shared by every worker through the Redis hash ``key``: refreshed under
    a Redis lock by one worker at a time, a failed request remembered for the others. Subclasses
    say how to read, fetch and store it (:meth:`_read`, :meth:`_fetch`, :meth:`_store`)."""

    def __init__(self, client: redis.Redis, http: httpx.Client, ims_url: str, key: str, sharing: Sharing) -> None:
        self._redis = client
        self._http = http
        self._ims_url = ims_url.rstrip("/")
        self._margin_s = sharing.refresh_margin_s
        self._clock = sharing.clock
        self._lock_ttl_s = sharing.lock_ttl_s
        self._wait_s = sharing.wait_s
        self._poll_s = sharing.poll_s
        self._failure_hold_s = sharing.failure_hold_s
        self._pause = sharing.pause
        self.key = key
        self._lock_key = key + ":lock"
        self._failed_key = key + ":failed"
        self._local: Token | None = None

    # -- the token source ------------------------------------------------------------------

    def __call__(self) -> str:
        local = self._local
        if local is not None and self._clock() < local.refresh_at:
            return local.value
        return self._obtain().value

    def invalidate(self, token: str) -> None:
        """Frame.io answered 401 to ``token``: forget it here and, if it is still the shared
        token, in Redis too (so the next call fetches a new one, once for everybody)."""
        local = self._local
        if local is not None and local.value == token:
            self._local = None
        if self._drop_shared(token):
            log.info("the shared IMS token was refused by Frame.io; it will be fetched again")

    def _drop_shared(self, token: str) -> bool:
        raise NotImplementedError

    def _read(self) -> Token | None:
        raise NotImplementedError

    def _fetch(self) -> Token:
        raise NotImplementedError

    def _store(self, token: Token) -> None:
        raise NotImplementedError

    # -- sharing -----------------------------------------------------------------------------

    def _obtain(self) -> Token:
        deadline = time.monotonic() + self._wait_s
        while True:
            shared = self._read()
            now = self._clock()
            if shared is not None and now < shared.refresh_at:
                self._local = shared
                return shared
            usable = shared if shared is not None and now < shared.expires_at else None
            failure = self._failure()
            if failure is not None:
                if usable is not None:
                    return usable
                raise failure
            lock = self._redis.lock(self._lock_key, timeout=self._lock_ttl_s, blocking=False, thread_local=False)
            if lock.acquire():
                try:
                    return self._refresh(usable)
                finally:
                    with suppress(LockError):  # expired meanwhile: nothing to release
                        lock.release()
            if usable is not None:
                return usable  # another worker is refreshing; this one still works meanwhile
            if time.monotonic() >= deadline:
                raise ImsUnavailable(None, "another worker's token request did not finish in time")
            self._pause(self._poll_s)

    def _refresh(self, usable: Token | None) -> Token:
        """Under the lock: fetch a new token unless another worker just did."""
        shared = self._read()
        if shared is not None and self._clock() < shared.refresh_at:
            self._local = shared
            return shared
        try:
            fresh = self._fetch()
        except (ImsRejected, ImsUnavailable) as exc:
            self._remember(exc)
            if usable is not None and self._clock() < usable.expires_at:
                log.warning("could not refresh the IMS token (%s); the current one is still valid", exc)
                return usable
            raise
        self._store(fresh)
        self._local = fresh
        return fresh

    def _remember(self, error: ImsRejected | ImsUnavailable) -> None:
        if self._failure_hold_s <= 0:
            return
        record: dict[str, object]
        if isinstance(error, ImsRejected):
            record = {"kind": "rejected", "status": error.status, "extra": error.error, "retry_after": None}
        else:
            record = {
                "kind": "unavailable",
                "status": error.status,
                "extra": error.reason,
                "retry_after": error.retry_after,
            }
        self._redis.set(self._failed_key, json.dumps(record), px=max(1, int(self._failure_hold_s * 1000)))

    def _failure(self) -> ImsRejected | ImsUnavailable | None:
        raw = self._redis.get(self._failed_key)
        if raw is None:
            return None
        try:
            record = json.loads(_text(raw))
            if record["kind"] == "rejected":
                return ImsRejected(record["status"], record["extra"])
            return ImsUnavailable(record["status"], record["extra"], record["retry_after"])
        except (ValueError, KeyError, TypeError):
            return None

    # -- Adobe IMS ---------------------------------------------------------------------------

    def _request_token(self, form: dict[str, str]) -> Token:
        """POST ``form`` to IMS's token endpoint: the token of a 200 answer, else the error."""
        started = self._clock()
        answer = post_form(self._http, self._ims_url + TOKEN_PATH, form)
        if isinstance(answer, str):
            raise ImsUnavailable(None, answer)
        if answer.status_code != 200:
            raise error_for(answer)
        token = parse_token(answer, started, self._margin_s)
        if token is None:
            raise ImsUnavailable(200, "the answer has no access_token")
        log.info("fetched a new Adobe IMS access token (expires in %.0f s)", token.expires_at - started)
        return token


def s2s_key(ims_url: str, client_id: str, scopes: str) -> str:
    """The Redis hash of the server-to-server token of ``client_id`` with ``scopes``."""
    joined = ",".join(scopes.replace(",", " ").split())
    digest = hashlib.sha256(f"{ims_url.rstrip('/')}\n{client_id}\n{joined}".encode()).hexdigest()[:16]
    return KEY_PREFIX + digest


class ServerToServerToken(SharedToken):
    """An Adobe IMS ``client_credentials`` token shared by all workers through Redis."""

    def __init__(
        self,
        client: redis.Redis,
        http: httpx.Client,
        ims_url: str,
        client_id: str,
        client_secret: SecretStr,
        scopes: str,
        **sharing: Any,
    ) -> None:
        if not client_id or not client_secret.get_secret_value():
            raise ValueError("the IMS client id and client secret must not be empty")
        # Adobe documents the scope parameter as comma-separated; the settings may use spaces.
        self._scopes = ",".join(scopes.replace(",", " ").split())
        self._client_id = client_id
        self._secret = client_secret
        super().__init__(client, http, ims_url, s2s_key(ims_url, client_id, scopes), Sharing(**sharing))
        self._invalidate = client.register_script(_INVALIDATE)

    def __repr__(self) -> str:
        return f"ServerToServerToken(ims_url={self._ims_url!r}, client_id={self._client_id!r}, key={self.key!r})"

    def _drop_shared(self, token: str) -> bool:
        return bool(self._invalidate(keys=[self.key], args=[token]))

    def _read(self) -> Token | None:
        return stored_token(read_fields(self._redis, self.key))

    def _store(self, token: Token) -> None:
        ttl_ms = max(1, int((token.expires_at - self._clock()) * 1000))
        items = ["token", token.value, "refresh_at", repr(token.refresh_at), "expires_at", repr(token.expires_at)]
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(self.key)
        pipe.hset(self.key, items=items)
        pipe.pexpire(self.key, ttl_ms)
        pipe.delete(self._failed_key)
        pipe.execute()

    def _fetch(self) -> Token:
        return self._request_token(self._form())

    def _form(self) -> dict[str, str]:
        return {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._secret.get_secret_value(),
            "scope": self._scopes,
        }


def read_fields(client: redis.Redis, key: str) -> dict[str, str]:
    """A shared token's hash as text (empty when there is none)."""
    stored: dict[Any, Any] = client.hgetall(key)
    return {_text(name): _text(value) for name, value in stored.items()}


def stored_token(fields: dict[str, str]) -> Token | None:
    """The access token a shared token's hash holds; None when it holds none that is whole."""
    try:
        return Token(fields["token"], float(fields["refresh_at"]), float(fields["expires_at"]))
    except (KeyError, ValueError):
        return None


def post_form(
    http: httpx.Client, url: str, form: dict[str, str], auth: httpx.Auth | None = None
) -> httpx.Response | str:
    """IMS's answer, or what kept it from coming. httpx's exceptions stay in here: they hold
    the request, so the secret, and must not become the ``__context__`` of an error of ours."""
    try:
        chosen = httpx.USE_CLIENT_DEFAULT if auth is None else auth
        return http.post(url, data=form, headers={"accept": "application/json"}, auth=chosen)
    except httpx.TimeoutException:
        return "timed out"
    except httpx.HTTPError as exc:
        return type(exc).__name__


def parse_token(response: httpx.Response, now: float, margin_s: float) -> Token | None:
    """The token of a 200 answer; None when it has none (or is not JSON)."""
    body = _json(response)
    value = body.get("access_token")
    if not isinstance(value, str) or not value:
        return None
    lifetime = body.get("expires_in")
    if isinstance(lifetime, bool) or not isinstance(lifetime, int | float) or lifetime <= 0:
        lifetime = DEFAULT_EXPIRES_IN_S
    margin = min(margin_s, lifetime / 2)
    refresh = body.get("refresh_token")
    refresh_token = refresh if isinstance(refresh, str) and refresh else None
    return Token(value, now + lifetime - margin, now + lifetime, refresh_token)


def _json(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object; {} when it is not one."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


# OAuth 2.0's token endpoint error codes (RFC 6749 5.2) and IMS's few others: only these are
# repeated in a message, so nothing an answer carries (let alone an echo of the request) can leak.
_KNOWN_ERRORS = frozenset(
    {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "access_denied",
        "invalid_token",
        "server_error",
        "temporarily_unavailable",
    }
)


def error_for(response: httpx.Response) -> ImsRejected | ImsUnavailable:
    status = response.status_code
    if status in {408, 429} or status >= 500:
        return ImsUnavailable(
            status, "rate limited" if status == 429 else "server error", retry_after_s(response.headers)
        )
    return ImsRejected(status, _error_code(response))


def _error_code(response: httpx.Response) -> str:
    """IMS's ``error`` field when it is a known code; never ``error_description``."""
    code = _json(response).get("error")
    return code if code in _KNOWN_ERRORS else ""


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
