"""The process's clients, built in one place from the settings and handed to the jobs.

``autostack worker`` builds a :class:`Runtime` once at start-up and :func:`install` s it; RQ forks
a work horse per job, and the job asks :func:`current` for it. Connections are opened lazily in
the process that uses them (never shared across a fork).
"""

from __future__ import annotations

import os
import ssl
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

import httpx
import redis
from rq import Queue

from workers.frameio.accounts import AccountTokens
from workers.frameio.auth import ServerToServerToken, StaticToken, TokenSource
from workers.frameio.client import FrameioClient
from workers.frameio.limiting import LimitedCalls
from workers.frameio.platform import PLATFORM_KEY, Platform
from workers.frameio.ratelimit import RateLimiter, parse_limits
from workers.frameio.usertoken import UserToken
from workers.metrics import CallCounter
from workers.naming.scopes import DEFAULT_BOOK, RuleBook
from workers.settings import AccountCredential, Settings
from workers.stacking.locks import GroupLocks
from workers.stacking.memory import Memory
from workers.stacking.planner import Policy
from workers.stacking.scope import FolderRules, FolderScope

FOREGROUND_MAX_WAIT_S = 3600.0


@dataclass
class Runtime:
    settings: Settings
    rules: RuleBook = DEFAULT_BOOK  # the rules file: global rules and [[scope]] sections
    transport: httpx.BaseTransport | None = None
    # A command-line tool (backfill, undo) waits for the shared limiter in the process; a worker
    # hands a long wait back to RQ's scheduler instead.
    foreground: bool = False
    _pid: int = field(default=-1, repr=False)
    _redis: redis.Redis | None = field(default=None, repr=False)
    _frameio: FrameioClient | None = field(default=None, repr=False)
    _calls: CallCounter | None = field(default=None, repr=False)
    _limited: LimitedCalls | None = field(default=None, repr=False)
    _platform: Platform | None = field(default=None, repr=False)
    _tls: ssl.SSLContext | None = field(default=None, repr=False)

    def _fresh(self) -> None:
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._redis = None
            self._frameio = None
            self._calls = None
            self._limited = None

    def platform(self) -> Platform:
        """Frame.io's undocumented answers as ``autostack doctor --probe`` learned them, read from
        Redis once per process (a work horse forked from the worker inherits them). Nothing stored,
        or Redis not answering: every answer unknown, and autostack copes with each of them."""
        if self._platform is None:
            try:
                stored = self.redis().get(PLATFORM_KEY)
            except redis.RedisError:
                return Platform()  # not kept: the next call asks Redis again
            self._platform = Platform.from_json(stored)
        return self._platform

    def tls(self) -> ssl.SSLContext:
        """The TLS context of every Frame.io and IMS client, built once: it holds no connection, so
        a work horse forked from the worker inherits it and a job does not load the CA bundle again
        (some 50 ms of every job's latency)."""
        if self._tls is None:
            self._tls = httpx.create_ssl_context()
        return self._tls

    def redis(self) -> redis.Redis:
        self._fresh()
        if self._redis is None:
            self._redis = redis.Redis.from_url(self.settings.redis_url, health_check_interval=30)
        return self._redis

    def queue(self) -> Queue:
        return Queue(self.settings.autostack_queue, connection=self.redis())

    def frameio(self) -> FrameioClient:
        self._fresh()
        if self._frameio is None:
            # The doctor's learned answers; every Stacker takes them from its client.
            self._frameio = FrameioClient(
                self.settings.frameio_base_url,
                self.account_tokens(),
                transport=self.transport,
                timeout=self.settings.frameio_timeout_s,
                observer=self._counter(),
                platform=self.platform(),
                verify=self.tls(),
            )
        return self._frameio

    def ims_http(self) -> httpx.Client | None:
        """The client Adobe IMS is called with, over the same transport as Frame.io (the in-process
        sandbox in tests); None when every credential is a static token (no TLS context built)."""
        if not self.settings.needs_ims():
            return None
        return httpx.Client(transport=self.transport, timeout=self.settings.frameio_timeout_s, verify=self.tls())

    def account_tokens(self) -> AccountTokens:
        """Each account's token source: its row of the accounts file, else the default credential
        (none when unset: a call in such an account fails with NoCredential)."""
        return account_tokens(self.settings, self.redis(), self.ims_http())

    def _counter(self) -> CallCounter:
        self._limited = self._limited_calls()
        self._calls = CallCounter(self._limited)
        return self._calls

    def patience(self, seconds: float) -> AbstractContextManager[None]:
        """Within the block, a Frame.io call waits at most ``seconds`` inline for the shared
        limiter (then :class:`~workers.frameio.errors.Throttled`); without a limiter, nothing."""
        self.frameio()
        return nullcontext() if self._limited is None else self._limited.patience(seconds)

    def take_call_metrics(self) -> dict[str, float]:
        """This process's Frame.io call counts and limiter waits since they were last taken (and resets them)."""
        if self._calls is None:
            return {}
        waited = dict(self._limited.waited_s) if self._limited is not None else {}
        if self._limited is not None:
            self._limited.waited_s.clear()
        return self._calls.drain(waited)

    def _limited_calls(self) -> LimitedCalls | None:
        settings = self.settings
        if not settings.autostack_rate_limiter:
            return None
        limits = parse_limits(settings.autostack_rate_limits)
        limiter = RateLimiter(self.redis(), limits, window_scale=settings.autostack_rate_window_scale)
        inline = FOREGROUND_MAX_WAIT_S if self.foreground else settings.autostack_max_inline_wait_s
        return LimitedCalls(limiter, max_inline_wait_s=inline)

    def policy(self) -> Policy:
        return Policy(
            duplicate_versions=self.settings.autostack_duplicate_versions,
            separate_media_kinds=self.settings.autostack_separate_media_kinds,
        )

    def folder_rules(self) -> FolderRules:
        """The naming rules per folder, for one job; without [[scope]] sections it makes no calls."""
        if not self.rules.scopes:
            return FolderRules(self.rules)
        return FolderRules(self.rules, FolderScope(self.frameio(), self.redis(), ()))

    def memory(self) -> Memory:
        return Memory(self.redis(), listing_ttl_s=self.settings.autostack_listing_cache_s)

    def locks(self) -> GroupLocks:
        return GroupLocks(self.redis(), timeout_s=self.settings.autostack_lock_timeout_s)


def token_source(settings: Settings, client: redis.Redis, http: httpx.Client | None = None) -> TokenSource:
    """The token source the settings ask for (:meth:`~workers.settings.Settings.auth_mode`): the
    static ``FRAMEIO_TOKEN``, IMS server-to-server, or the user sign-in ``autostack login`` stored;
    :class:`~workers.settings.ConfigError` when nothing to sign in with is set."""
    mode = settings.auth_mode()
    if mode == "static":
        assert settings.frameio_token is not None  # auth_mode checked it
        return StaticToken(settings.frameio_token, client)
    ims = http if http is not None else httpx.Client(timeout=settings.frameio_timeout_s)
    client_id, secret = settings.frameio_client_id, settings.frameio_client_secret
    assert client_id is not None  # the settings' validator checked it
    if mode == "user":
        return UserToken(client, ims, settings.frameio_ims_url, client_id, secret)
    assert secret is not None
    return ServerToServerToken(client, ims, settings.frameio_ims_url, client_id, secret, settings.frameio_ims_scopes)


def account_tokens(settings: Settings, client: redis.Redis, http: httpx.Client | None) -> AccountTokens:
    """The token source of every account of the accounts file, and the default one (if set)."""
    default = token_source(settings, client, http) if settings.default_auth() is not None else None
    rows = settings.frameio_accounts.items()
    return AccountTokens(default, {account: _row_source(settings, account, row, client, http) for account, row in rows})


def _row_source(
    settings: Settings, account: str, row: AccountCredential, client: redis.Redis, http: httpx.Client | None
) -> TokenSource:
    if row.token is not None:
        return StaticToken(row.token, client, account=account)
    assert row.client_id is not None and row.client_secret is not None  # the file's reader checked both
    ims = http if http is not None else httpx.Client(timeout=settings.frameio_timeout_s)
    ims_url, scopes = settings.frameio_ims_url, settings.frameio_ims_scopes
    return ServerToServerToken(client, ims, ims_url, row.client_id, row.client_secret, scopes)


_current: Runtime | None = None


def install(runtime: Runtime) -> None:
    global _current  # noqa: PLW0603 - the one process-wide runtime, set once at start-up
    _current = runtime


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("no runtime installed: start jobs with `autostack worker`")
    return _current
