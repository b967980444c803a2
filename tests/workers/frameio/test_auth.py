"""Token sources: a static token, and Adobe IMS server-to-server shared by all workers through Redis.

The IMS side is either the sandbox's stand-in (in-process, with an injected clock that also fires
the sandbox's expiry timers) or a bare ``httpx.MockTransport`` where a test needs to control each
answer. Nothing sleeps to synchronise: threads meet on conditions, time moves by hand.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import parse_qs

import httpx
import pytest
import redis
from pydantic import SecretStr
from starlette.applications import Starlette

from sandbox import ims
from tests.workers.conftest import InProcessSandbox
from workers.frameio.auth import (
    KEY_PREFIX,
    ImsRejected,
    ImsUnavailable,
    ServerToServerToken,
    StaticToken,
    TokenSource,
)
from workers.frameio.client import FrameioClient
from workers.frameio.errors import PermanentError, RetryableError, Unauthorized, is_retryable
from workers.runtime import token_source
from workers.settings import ConfigError, load_settings

SECRET = "ims-sec-5f1d0c7a9e2b4b8f8c3d6a1e0f9b7c2d"
CLIENT_ID = "autostack-test-client"
IMS_URL = "http://ims.test"
T0 = 1_700_000_000.0


@dataclass
class Clock:
    """The workers' clock and the sandbox's expiry timers, moved together by hand."""

    now: float = T0
    pending: list[tuple[float, Callable[[], None]]] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def schedule(self, delay: float, callback: Callable[[], None]) -> None:
        self.pending.append((self.now + delay, callback))

    def advance(self, seconds: float) -> None:
        self.now += seconds
        due = sorted((entry for entry in self.pending if entry[0] <= self.now), key=lambda entry: entry[0])
        self.pending = [entry for entry in self.pending if entry[0] > self.now]
        for _, callback in due:
            callback()


# -- the sandbox's IMS stand-in ---------------------------------------------------------------


@dataclass
class World:
    sandbox: InProcessSandbox
    redis: redis.Redis
    clock: Clock
    http: httpx.Client
    stand_in: ims.ImsStandIn

    def source(self, **options: Any) -> ServerToServerToken:
        return ServerToServerToken(
            self.redis,
            self.http,
            "http://sandbox",
            ims.DEMO_CLIENT_ID,
            SecretStr(ims.DEMO_CLIENT_SECRET),
            "openid AdobeID frame.s2s.all",
            clock=self.clock,
            **options,
        )

    def ims_calls(self) -> int:
        return self.sandbox.calls(ims.ENDPOINT)

    def frameio(self, token: str) -> int:
        """The status Frame.io (the sandbox) answers to a call made with ``token``."""
        path = f"/v4/accounts/{self.sandbox.account}/folders/{self.sandbox.state['root_folder_id']}"
        status: int = self.sandbox.http.get(path, headers={"authorization": f"Bearer {token}"}).status_code
        return status

    def revoke(self, token: str) -> None:
        """IMS takes a token back early (Frame.io answers 401 to it from now on)."""
        app = cast(Starlette, self.sandbox.http.app)
        app.state.sandbox.store.tokens.pop(token)


@pytest.fixture
def world(sandbox: InProcessSandbox, redis_client: redis.Redis) -> Iterator[World]:
    app = cast(Starlette, sandbox.http.app)
    if not any(getattr(route, "path", None) == ims.TOKEN_PATH for route in app.router.routes):
        app.router.routes.extend(ims.ROUTES)  # until create_app serves them itself
    clock = Clock()
    stand_in = ims.install(app, ims.ImsConfig(expires_in=600), schedule=clock.schedule)
    with httpx.Client(transport=sandbox.transport()) as http:
        yield World(sandbox, redis_client, clock, http, stand_in)


def test_end_to_end_a_token_from_ims_reaches_frameio(world: World) -> None:
    source = world.source()
    client = FrameioClient("http://sandbox", source, transport=world.sandbox.transport())
    try:
        assert client.list_folder_children(world.sandbox.account, world.sandbox.state["root_folder_id"]) == []
        client.list_folder_children(world.sandbox.account, world.sandbox.state["root_folder_id"])
    finally:
        client.close()
    assert world.ims_calls() == 1 and world.stand_in.issued == 1
    assert isinstance(source, TokenSource)


def test_the_shared_token_is_a_redis_hash_whose_ttl_is_the_expiry(world: World) -> None:
    source = world.source()
    token = source()
    raw: dict[bytes, bytes] = world.redis.hgetall(source.key)  # type: ignore[assignment]
    stored = {key.decode(): value.decode() for key, value in raw.items()}
    assert stored["token"] == token
    assert float(stored["expires_at"]) == T0 + 600 and float(stored["refresh_at"]) == T0 + 300
    assert 599_000 < world.redis.pttl(source.key) <= 600_000
    assert source.key.startswith(KEY_PREFIX) and CLIENT_ID not in source.key


def test_expiry_refreshes_ahead_and_the_sandbox_expires_the_old_token(world: World) -> None:
    worker, other = world.source(), world.source()
    first = worker()
    world.clock.advance(299)
    assert worker() == first and other() == first and world.ims_calls() == 1
    world.clock.advance(2)  # inside the 300 s margin: refreshed, while the old one still works
    second = worker()
    assert second != first and world.ims_calls() == 2
    assert other() == second and world.ims_calls() == 2  # the other worker reads it from Redis
    assert (world.frameio(first), world.frameio(second)) == (200, 200)
    world.clock.advance(300)  # 601 s after the first: expired at the sandbox
    assert (world.frameio(first), world.frameio(second)) == (401, 200)
    world.clock.advance(300)
    third = other()
    assert third not in (first, second) and world.ims_calls() == 3 and world.frameio(third) == 200


def test_a_short_lifetime_is_refreshed_at_half_time_not_on_every_call(world: World) -> None:
    world.stand_in.config.expires_in = 60
    source = world.source(refresh_margin_s=300)
    first = source()
    world.clock.advance(29)
    assert source() == first and world.ims_calls() == 1
    world.clock.advance(1)
    assert source() != first and world.ims_calls() == 2


def test_two_sources_on_one_redis_make_one_ims_call(world: World) -> None:
    assert world.source()() == world.source()() and world.ims_calls() == 1


def test_a_401_storm_triggers_exactly_one_refresh(world: World) -> None:
    workers = [world.source() for _ in range(5)]
    old = workers[0]()
    assert all(worker() == old for worker in workers) and world.ims_calls() == 1
    world.revoke(old)
    assert world.frameio(old) == 401
    # Every worker met the 401 with the old token; some invalidate before any refresh...
    for worker in workers[:3]:
        worker.invalidate(old)
    fresh = {worker() for worker in workers[:3]}
    # ...and some only after another worker already refreshed.
    for worker in workers[3:]:
        worker.invalidate(old)
        fresh.add(worker())
    assert len(fresh) == 1 and old not in fresh and world.ims_calls() == 2
    assert world.frameio(fresh.pop()) == 200


def test_frameio_client_meets_a_revoked_token_with_one_refresh(world: World) -> None:
    source = world.source()
    client = FrameioClient("http://sandbox", source, transport=world.sandbox.transport())
    root = world.sandbox.state["root_folder_id"]
    try:
        client.list_folder_children(world.sandbox.account, root)
        world.revoke(source())
        client.list_folder_children(world.sandbox.account, root)
        client.list_folder_children(world.sandbox.account, root)
    finally:
        client.close()
    assert world.ims_calls() == 2


def test_invalidating_an_old_token_never_drops_a_newer_one(world: World) -> None:
    source = world.source()
    first = source()
    source.invalidate(first)
    second = source()
    source.invalidate(first)  # a late 401 for the first token
    source.invalidate("never-issued")
    assert source() == second and world.ims_calls() == 2


def test_sandbox_refusals_and_failures_map_to_the_error_families(world: World) -> None:
    wrong = ServerToServerToken(
        world.redis, world.http, "http://sandbox", ims.DEMO_CLIENT_ID, SecretStr(SECRET), "openid", clock=world.clock
    )
    with pytest.raises(ImsRejected) as rejected:
        wrong()
    assert rejected.value.status == 400 and rejected.value.error == "invalid_client"
    assert str(rejected.value) == "ims_token: HTTP 400: Adobe IMS refused the token request (invalid_client)"
    assert SECRET not in _everything_about(rejected.value)
    world.stand_in.fail_next = [503]
    with pytest.raises(ImsUnavailable) as unavailable:
        world.source()()
    assert unavailable.value.status == 503 and is_retryable(unavailable.value)


# -- a bare MockTransport as IMS --------------------------------------------------------------


@dataclass
class FakeIms:
    """IMS answers chosen per test; issues tok-1, tok-2, … and records every request."""

    answers: list[httpx.Response | Exception] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    expires_in: int = 3600
    issued: list[str] = field(default_factory=list)
    hold: Callable[[], None] = lambda: None

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.answers:
            answer = self.answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        self.hold()
        self.issued.append(f"tok-{len(self.issued) + 1}")
        body = {"access_token": self.issued[-1], "token_type": "bearer", "expires_in": self.expires_in}
        return httpx.Response(200, json=body)

    def http(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle))


def s2s(
    client: redis.Redis, fake: FakeIms, clock: Callable[[], float] = lambda: T0, **options: Any
) -> ServerToServerToken:
    scopes = "openid AdobeID frame.s2s.all"
    return ServerToServerToken(
        client, fake.http(), IMS_URL, CLIENT_ID, SecretStr(SECRET), scopes, clock=clock, **options
    )


def test_the_request_is_adobes_documented_form(redis_client: redis.Redis) -> None:
    fake = FakeIms()
    assert s2s(redis_client, fake)() == "tok-1"
    (request,) = fake.requests
    assert request.method == "POST" and str(request.url) == f"{IMS_URL}/ims/token/v3"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.content.decode(), strict_parsing=True) == {
        "grant_type": ["client_credentials"],
        "client_id": [CLIENT_ID],
        "client_secret": [SECRET],
        "scope": ["openid,AdobeID,frame.s2s.all"],
    }
    assert SECRET not in str(request.url)


def test_concurrent_first_calls_from_threads_make_one_ims_call(redis_url: str, redis_client: redis.Redis) -> None:
    workers = 8
    meeting = threading.Condition()
    paused: set[int] = set()

    def pause(seconds: float) -> None:
        with meeting:
            paused.add(threading.get_ident())
            meeting.notify_all()
            meeting.wait(seconds)

    def hold() -> None:  # the refreshing worker answers only once every other worker waits
        with meeting:
            meeting.wait_for(lambda: len(paused) >= workers - 1, timeout=10)

    fake = FakeIms(hold=hold)

    def work(_: int) -> str:
        connection = redis.Redis.from_url(redis_url)
        try:
            return s2s(connection, fake, pause=pause, poll_s=0.005)()
        finally:
            connection.close()

    with ThreadPoolExecutor(workers) as pool:
        tokens = list(pool.map(work, range(workers)))
    assert tokens == ["tok-1"] * workers
    assert len(fake.requests) == 1 and len(paused) == workers - 1


def test_while_one_worker_refreshes_the_others_keep_the_still_valid_token(redis_client: redis.Redis) -> None:
    clock = Clock()
    fake = FakeIms()
    source = s2s(redis_client, fake, clock)
    assert source() == "tok-1"
    clock.advance(3400)  # inside the margin, not expired
    lock = redis_client.lock(source.key + ":lock", timeout=30)
    assert lock.acquire(blocking=False)
    try:
        assert s2s(redis_client, fake, clock)() == "tok-1" and len(fake.requests) == 1
    finally:
        lock.release()
    assert s2s(redis_client, fake, clock)() == "tok-2"


def test_a_waiter_gives_up_retryably_when_the_refresher_never_finishes(redis_client: redis.Redis) -> None:
    fake = FakeIms()
    source = s2s(redis_client, fake)
    assert redis_client.lock(source.key + ":lock", timeout=30).acquire(blocking=False)  # a worker that died
    pauses: list[float] = []
    with pytest.raises(ImsUnavailable) as waited:
        s2s(redis_client, fake, wait_s=0.05, poll_s=0.01, pause=pauses.append)()
    assert "did not finish in time" in str(waited.value) and pauses and not fake.requests


@pytest.mark.parametrize(
    ("answer", "family", "status", "text"),
    [
        (httpx.Response(400, json={"error": "invalid_client"}), ImsRejected, 400, "(invalid_client)"),
        (httpx.Response(401, json={"error": "invalid_client"}), ImsRejected, 401, "(invalid_client)"),
        (httpx.Response(400, json={"error": "invalid_scope"}), ImsRejected, 400, "(invalid_scope)"),
        (httpx.Response(403, text="<html>no</html>"), ImsRejected, 403, "refused the token request"),
        (httpx.Response(429, headers={"retry-after": "7"}), ImsUnavailable, 429, "rate limited"),
        (httpx.Response(408), ImsUnavailable, 408, "server error"),
        (httpx.Response(500), ImsUnavailable, 500, "server error"),
        (httpx.Response(503, json={"error": "temporarily_unavailable"}), ImsUnavailable, 503, "server error"),
        (httpx.Response(200, text="not json"), ImsUnavailable, 200, "no access_token"),
        (httpx.Response(200, json={"token_type": "bearer"}), ImsUnavailable, 200, "no access_token"),
        (httpx.ReadTimeout("read timed out"), ImsUnavailable, None, "timed out"),
        (httpx.ConnectError("refused"), ImsUnavailable, None, "ConnectError"),
    ],
)
def test_ims_errors_map_to_the_right_family(
    redis_client: redis.Redis,
    answer: httpx.Response | Exception,
    family: type[Exception],
    status: int | None,
    text: str,
) -> None:
    with pytest.raises(family) as raised:
        s2s(redis_client, FakeIms(answers=[answer]))()
    error = raised.value
    assert isinstance(error, ImsRejected | ImsUnavailable)
    assert error.status == status and text in str(error) and "ims_token" in str(error)
    assert error.__context__ is None and error.__cause__ is None  # httpx's errors hold the request
    assert isinstance(error, PermanentError) != isinstance(error, RetryableError)
    assert is_retryable(error) == (family is ImsUnavailable)
    if status == 429:
        assert isinstance(error, ImsUnavailable) and error.retry_after == 7.0


def test_the_secret_and_tokens_appear_in_no_message_repr_or_log(
    redis_client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    echoes: list[httpx.Response | Exception] = [
        httpx.Response(401, json={"error": "invalid_client", "error_description": f"bad secret {SECRET}"}),
        httpx.Response(400, json={"error": SECRET, "error_description": SECRET}),
        httpx.Response(500, text=f"oops {SECRET}"),
        httpx.ReadTimeout(f"timed out sending {SECRET}"),
        httpx.ConnectError(f"refused {SECRET}"),
    ]
    fake = FakeIms(answers=list(echoes))
    source = s2s(redis_client, fake, failure_hold_s=0)
    texts = [repr(source), str(vars(source).get("_secret"))]
    for _ in echoes:
        with pytest.raises((ImsRejected, ImsUnavailable)) as raised:
            source()
        texts.append(_everything_about(raised.value))
    token = source()
    texts += [repr(source), repr(StaticToken(SecretStr(SECRET))), caplog.text]
    for text in texts:
        assert SECRET not in text and token not in text
        assert SECRET[8:24] not in text  # nor a piece of it


def test_a_failure_is_remembered_briefly_so_other_workers_do_not_ask_again(redis_client: redis.Redis) -> None:
    fake = FakeIms(answers=[httpx.Response(400, json={"error": "invalid_client"})])
    with pytest.raises(ImsRejected):
        s2s(redis_client, fake)()
    with pytest.raises(ImsRejected) as again:
        s2s(redis_client, fake)()  # another worker: the same error, no IMS call
    assert again.value.error == "invalid_client" and len(fake.requests) == 1
    fake.answers = [httpx.Response(503)]
    redis_client.delete(s2s(redis_client, fake).key + ":failed")  # the hold ran out
    with pytest.raises(ImsUnavailable):
        s2s(redis_client, fake)()
    with pytest.raises(ImsUnavailable) as held:
        s2s(redis_client, fake)()
    assert held.value.status == 503 and len(fake.requests) == 2


def test_ims_down_at_refresh_time_keeps_the_valid_token_in_use(
    redis_client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    fake = FakeIms()
    source = s2s(redis_client, fake, clock)
    assert source() == "tok-1"
    clock.advance(3400)
    fake.answers = [httpx.Response(502)]
    assert source() == "tok-1" and "still valid" in caplog.text
    assert s2s(redis_client, fake, clock)() == "tok-1" and len(fake.requests) == 2  # held: no third call
    clock.advance(300)  # expired now, and IMS still remembered as failing
    with pytest.raises(ImsUnavailable):
        source()


def test_a_redis_client_that_decodes_answers_works_too(redis_url: str, redis_client: redis.Redis) -> None:
    fake = FakeIms()
    decoding = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        assert s2s(decoding, fake)() == "tok-1" and s2s(decoding, fake)() == "tok-1"
    finally:
        decoding.close()
    assert len(fake.requests) == 1


# -- FrameioClient and a 401 ------------------------------------------------------------------


@dataclass
class FakeFrameio:
    """Frame.io that accepts only the tokens in ``accepted``."""

    accepted: set[str] = field(default_factory=set)
    seen: list[str] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        self.seen.append(token)
        if token not in self.accepted:
            return httpx.Response(401, json={"errors": [{"detail": "Invalid bearer token"}]})
        return httpx.Response(200, json={"data": {"id": "f1", "type": "file", "name": "a.mov"}})


def test_frameio_client_retries_once_with_a_fresh_token_after_a_401(redis_client: redis.Redis) -> None:
    fake, frameio = FakeIms(), FakeFrameio()
    source = s2s(redis_client, fake)
    assert source() == "tok-1"
    frameio.accepted = {"tok-2"}  # tok-1 was revoked; the next token IMS issues will work
    client = FrameioClient("http://frameio.test", source, transport=httpx.MockTransport(frameio.handle))
    try:
        assert client.show_file("acc", "f1").name == "a.mov"
    finally:
        client.close()
    assert frameio.seen == ["tok-1", "tok-2"] and len(fake.requests) == 2


def test_a_static_token_401_is_not_retried(redis_client: redis.Redis) -> None:
    frameio = FakeFrameio()
    client = FrameioClient(
        "http://frameio.test", StaticToken(SecretStr("static-1")), transport=httpx.MockTransport(frameio.handle)
    )
    try:
        with pytest.raises(Unauthorized):
            client.show_file("acc", "f1")
    finally:
        client.close()
    assert frameio.seen == ["static-1"]


# -- picking the mode -------------------------------------------------------------------------


def test_token_source_picks_the_mode_from_the_settings(redis_client: redis.Redis) -> None:
    static = load_settings({"FRAMEIO_TOKEN": "tok", "FRAMEIO_CLIENT_ID": CLIENT_ID, "FRAMEIO_CLIENT_SECRET": SECRET})
    picked = token_source(static, redis_client)
    assert isinstance(picked, StaticToken) and picked() == "tok"
    picked.invalidate("tok")
    assert picked() == "tok"
    s2s_settings = load_settings(
        {"FRAMEIO_CLIENT_ID": CLIENT_ID, "FRAMEIO_CLIENT_SECRET": SECRET, "FRAMEIO_IMS_URL": IMS_URL + "/"}
    )
    fake = FakeIms()
    with fake.http() as http:
        picked = token_source(s2s_settings, redis_client, http)
        assert isinstance(picked, ServerToServerToken) and picked() == "tok-1"
    assert str(fake.requests[0].url) == f"{IMS_URL}/ims/token/v3"
    assert isinstance(token_source(s2s_settings, redis_client), ServerToServerToken)  # builds its own client
    with pytest.raises(ConfigError, match="FRAMEIO_TOKEN, or FRAMEIO_CLIENT_ID"):
        token_source(load_settings({}), redis_client)


def test_empty_credentials_are_refused(redis_client: redis.Redis) -> None:
    with pytest.raises(ValueError, match="empty"):
        StaticToken(SecretStr(""))
    with httpx.Client() as http, pytest.raises(ValueError, match="must not be empty"):
        ServerToServerToken(redis_client, http, IMS_URL, CLIENT_ID, SecretStr(""), "openid")


def _everything_about(error: BaseException) -> str:
    """Every text an error shows: message, repr, args, attributes and the formatted traceback
    (with any suppressed context)."""
    context = error.__context__
    parts = [str(error), repr(error), repr(error.args), repr(vars(error)), *traceback.format_exception(error)]
    if context is not None and not error.__suppress_context__:
        parts.append(repr(context))
    return "\n".join(parts)
