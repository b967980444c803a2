"""The user sign-in as a token source: refreshed under the shared lock, rotated refresh tokens
written with the access token, a 401 drops only the access token, a refused refresh token is a
permanent "run autostack login" for every worker. Against the sandbox's IMS stand-in in-process;
the hand-moved clock also fires the sandbox's expiry timers, except in the race test (real time)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import redis
from pydantic import SecretStr
from starlette.applications import Starlette

from sandbox import ims
from tests.workers.conftest import InProcessSandbox
from tests.workers.frameio.test_auth import T0, Clock
from workers.frameio import oauth
from workers.frameio.auth import TokenSource, read_fields
from workers.frameio.errors import PermanentError
from workers.frameio.usertoken import SignIn, SignInRequired, UserToken, store_sign_in, user_key
from workers.settings import DEFAULT_USER_SCOPES

WEB_ID, WEB_SECRET = "sandbox-web-client", "sandbox-web-secret"
IMS = "http://sandbox"
REDIRECT = "http://127.0.0.1:9/callback"


@dataclass
class Users:
    sandbox: InProcessSandbox
    db: redis.Redis
    clock: Clock
    http: httpx.Client

    def client(self) -> oauth.Client:
        return oauth.Client(IMS, WEB_ID, SecretStr(WEB_SECRET), REDIRECT, DEFAULT_USER_SCOPES)

    def sign_in(self) -> str:
        """Sign the sandbox's uploader in as ``autostack login`` does; the refresh token."""
        request = oauth.authorization(self.client())
        redirect = self.sandbox.http.get(request.url.removeprefix(IMS), follow_redirects=False)
        code = parse_qs(urlsplit(redirect.headers["location"]).query)["code"][0]
        token = oauth.exchange_code(self.http, self.client(), code, request.verifier, self.clock())
        store_sign_in(self.db, user_key(IMS, WEB_ID), SignIn(token, "Editor", "u", self.clock()))
        assert token.refresh_token is not None
        return token.refresh_token

    def source(self, connection: redis.Redis | None = None, **options: Any) -> UserToken:
        client = connection or self.db
        return UserToken(client, self.http, IMS, WEB_ID, SecretStr(WEB_SECRET), clock=self.clock, **options)

    def stored(self) -> dict[str, str]:
        return read_fields(self.db, user_key(IMS, WEB_ID))

    def refreshes(self, status: int | None = None) -> int:
        rows = self.sandbox.http.get("/_sandbox/calls").json()["calls"]
        return sum(r["count"] for r in rows if r["endpoint"] == ims.ENDPOINT and status in (None, r["status"]))

    def frameio(self, token: str) -> int:
        path = f"/v4/accounts/{self.sandbox.account}/folders/{self.sandbox.state['root_folder_id']}"
        return int(self.sandbox.http.get(path, headers={"authorization": f"Bearer {token}"}).status_code)

    def configure(self, **knobs: object) -> None:
        self.sandbox.http.patch("/_sandbox/config", json=knobs).raise_for_status()


@pytest.fixture
def users(sandbox: InProcessSandbox, redis_client: redis.Redis) -> Iterator[Users]:
    clock = Clock()
    ims.install(cast(Starlette, sandbox.http.app), schedule=clock.schedule)
    sandbox.http.patch("/_sandbox/config", json={"user_access_token_lifetime_s": 600}).raise_for_status()
    with httpx.Client(transport=sandbox.transport()) as http:
        yield Users(sandbox, redis_client, clock, http)


def test_the_signed_in_token_reaches_frameio_and_is_shared(users: Users) -> None:
    users.sign_in()
    source, other = users.source(), users.source()
    assert isinstance(source, TokenSource)
    assert source() == other() == users.stored()["token"]
    assert users.frameio(source()) == 200
    assert users.refreshes() == 1  # the code exchange only: no refresh needed yet


def test_a_refresh_before_expiry_saves_the_rotated_refresh_token(users: Users) -> None:
    first_refresh = users.sign_in()
    source = users.source()
    first = source()
    users.clock.advance(301)  # inside the 300 s margin of a 600 s token
    second = source()
    stored = users.stored()
    assert second != first and stored["token"] == second
    assert stored["refresh_token"] != first_refresh  # rotated, and the new one kept
    assert float(stored["expires_at"]) == T0 + 301 + 600
    users.clock.advance(301)
    third = users.source()()  # the rotated token works: a further refresh succeeds
    assert third not in (first, second) and users.frameio(third) == 200
    assert users.refreshes(400) == 0


def test_a_401_drops_the_access_token_but_never_the_refresh_token(users: Users) -> None:
    refresh = users.sign_in()
    source = users.source()
    old = source()
    source.invalidate(old)
    assert "token" not in users.stored() and users.stored()["refresh_token"] == refresh
    fresh = source()
    assert fresh != old and users.frameio(fresh) == 200
    source.invalidate(old)  # a late 401 to the old token drops nothing
    assert users.stored()["token"] == fresh


def test_a_revoked_sign_in_is_a_permanent_error_for_every_worker(users: Users) -> None:
    refresh = users.sign_in()
    oauth.revoke(users.http, users.client(), refresh)
    users.clock.advance(301)
    with pytest.raises(SignInRequired) as caught:
        users.source()()
    assert isinstance(caught.value, PermanentError) and caught.value.reason == "refused"
    assert "autostack login" in str(caught.value) and refresh not in str(caught.value)
    calls = users.refreshes()
    with pytest.raises(SignInRequired):
        users.source()()  # another worker: told from Redis, IMS is not asked again
    assert users.refreshes() == calls
    assert users.stored()["refused"] == "invalid_grant"


def test_nobody_signed_in_is_logged_out(users: Users) -> None:
    with pytest.raises(SignInRequired) as caught:
        users.source()()
    assert caught.value.reason == "logged_out"


def test_a_login_during_a_refresh_wins(users: Users) -> None:
    """The refreshed tokens are written only if the hash still holds the refresh token sent."""
    users.sign_in()
    newest: dict[str, str] = {}
    inner = users.sandbox.transport()

    def during_refresh(request: httpx.Request) -> httpx.Response:
        answer = inner.handle_request(request)
        if b"grant_type=refresh_token" in request.content and not newest:
            newest["refresh"] = users.sign_in()  # `autostack login` again, meanwhile
        return answer

    with httpx.Client(transport=httpx.MockTransport(during_refresh)) as http:
        source = UserToken(users.db, http, IMS, WEB_ID, SecretStr(WEB_SECRET), clock=users.clock)
        users.clock.advance(301)
        source()
    assert users.stored()["refresh_token"] == newest["refresh"]


def test_racing_refreshes_never_lose_the_rotated_refresh_token(
    sandbox: InProcessSandbox, redis_client: redis.Redis, redis_url: str
) -> None:
    """Eight threads, each its own UserToken and Redis connection (as processes would be), ask
    for tokens for 3 s while IMS gives 0.2 s tokens and rotates the refresh token on every refresh
    with no grace: one refresh at a time, none refused, and the last refresh token still works."""
    users = Users(sandbox, redis_client, Clock(), httpx.Client(transport=sandbox.transport()))
    users.configure(user_access_token_lifetime_s=0.2, refresh_token_rotation="rotate", refresh_token_grace_s=0)
    users.clock.now = time.time()
    users.sign_in()
    stop = threading.Event()

    def work(_: int) -> int:
        connection = redis.Redis.from_url(redis_url)
        source = UserToken(connection, users.http, IMS, WEB_ID, SecretStr(WEB_SECRET))
        served = 0
        try:
            while not stop.is_set():
                token = source()
                served += 1
                if served % 7 == 0:
                    source.invalidate(token)  # now and then a 401
        finally:
            connection.close()
        return served

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(work, n) for n in range(8)]
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline and not any(f.done() for f in futures):
            stop.wait(0.05)
        stop.set()
        served = sum(f.result() for f in futures)
    refreshes = users.refreshes(200) - 1
    assert refreshes >= 10 and served > refreshes
    assert users.refreshes(400) == 0
    final = UserToken(redis_client, users.http, IMS, WEB_ID, SecretStr(WEB_SECRET), clock=lambda: time.time() + 3600)
    assert users.frameio(final()) == 200  # the stored refresh token is the live one
    users.http.close()
