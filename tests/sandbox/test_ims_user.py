"""The IMS stand-in's user sign-in: authorize (+ PKCE), authorization_code, refresh_token, revoke.

In-process (Starlette's TestClient, which is an ``httpx.Client``, so the SDK's own auth classes,
``WebAppAuth`` and ``SPAAuth``, drive the flows and referee the answers). Expiry fires through the
injected ``ManualTimers`` (no sleeping), except one test that waits on the event loop's timer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from frameio import Frameio
from frameio.auth import AuthenticationError, SPAAuth, TokenExpiredError, WebAppAuth
from starlette.testclient import TestClient

from sandbox import ims, oauth
from sandbox.app import create_app
from sandbox.config import SandboxConfig
from service.processes import wait_until
from tests.sandbox.test_ims import ManualTimers, with_ims

BASE = "http://testserver"
REDIRECT = "http://localhost:8765/callback"
WEB = SandboxConfig().oauth_web_client_id
WEB_SECRET = SandboxConfig().oauth_web_client_secret
SPA = SandboxConfig().oauth_spa_client_ids[0]
SCOPES = "openid email profile offline_access additional_info.roles"


def sdk_http(http: TestClient) -> httpx.Client:
    """The TestClient as the SDK's ``http_client``. This Starlette's TestClient is an ``httpx2.Client``:
    the SDK drives it just the same (duck typing), but it is not typed as an ``httpx.Client``."""
    return cast(httpx.Client, http)


@dataclass
class World:
    http: TestClient
    state: dict[str, str]
    timers: ManualTimers

    def web_auth(self) -> WebAppAuth:
        return WebAppAuth(
            client_id=WEB, client_secret=WEB_SECRET, redirect_uri=REDIRECT, ims_base_url=BASE,
            http_client=sdk_http(self.http), max_retries=0,
        )  # fmt: skip

    def spa_auth(self) -> SPAAuth:
        return SPAAuth(
            client_id=SPA, redirect_uri=REDIRECT, ims_base_url=BASE, http_client=sdk_http(self.http), max_retries=0
        )

    def redirect(self, url: str) -> dict[str, str]:
        """Follow the authorize URL one step; the query of the redirect target."""
        answer = self.http.get(url, follow_redirects=False)
        assert answer.status_code == 302, answer.text
        location = answer.headers["location"]
        assert location.startswith(REDIRECT + "?")
        return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}

    def web_sign_in(self) -> WebAppAuth:
        auth = self.web_auth()
        auth.exchange_code(self.redirect(auth.get_authorization_url(state="s1"))["code"])
        return auth

    def token(self, **form: str) -> Any:
        return self.http.post(ims.TOKEN_PATH, data=form)

    def refresh(self, refresh_token: str) -> Any:
        return self.token(
            grant_type="refresh_token", client_id=WEB, client_secret=WEB_SECRET, refresh_token=refresh_token
        )

    def frameio(self, token: str) -> int:
        """Status of ``GET /v4/me`` made with ``token``."""
        status: int = self.http.get("/v4/me", headers={"authorization": f"Bearer {token}"}).status_code
        return status


@pytest.fixture
def make_world() -> Iterator[Callable[..., World]]:
    clients: list[TestClient] = []

    def make(**knobs: Any) -> World:
        config = SandboxConfig(seed=31, rate_limits=False, transcode_delay_s=0.0, **knobs)
        app = with_ims(create_app(config))
        timers = ManualTimers()
        ims.install(app, schedule=timers)
        http = TestClient(app, base_url=BASE).__enter__()
        clients.append(http)
        return World(http, http.get("/_sandbox/state").json(), timers)

    yield make
    for http in clients:
        http.__exit__(None, None, None)


@pytest.fixture
def world(make_world: Callable[..., World]) -> World:
    return make_world()


# --- authorization code ------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument")  # the SDK passes one
def test_web_app_signs_in_with_the_sdk_and_me_answers_for_the_user(world: World) -> None:
    auth = world.web_auth()
    query = world.redirect(auth.get_authorization_url(state="csrf-1"))
    assert query["state"] == "csrf-1" and query["code"]
    result = auth.exchange_code(query["code"])
    assert result["token_type"] == "bearer" and result["expires_in"] == 3600 and result["refresh_token"]
    profile = Frameio(base_url=BASE, token=auth.get_token, httpx_client=sdk_http(world.http)).users.show().data
    assert (profile.id, profile.name) == (world.state["uploader_user_id"], "Editor")
    assert profile.email == "editor@sandbox.invalid"


def test_spa_signs_in_with_pkce_through_the_sdk(world: World) -> None:
    auth = world.spa_auth()
    started = auth.get_authorization_url(state="s")
    assert "code_challenge_method=S256" in started.url
    auth.exchange_code(world.redirect(started.url)["code"], started.code_verifier)
    assert world.frameio(auth.get_token()) == 200


def test_a_wrong_verifier_is_refused_and_spends_the_code(world: World) -> None:
    auth = world.spa_auth()
    started = auth.get_authorization_url(state="s")
    code = world.redirect(started.url)["code"]
    with pytest.raises(AuthenticationError) as wrong:
        auth.exchange_code(code, "x" * 64)
    assert wrong.value.error_code == "invalid_grant"
    with pytest.raises(AuthenticationError) as spent:
        auth.exchange_code(code, started.code_verifier)
    assert spent.value.error_code == "invalid_grant"


def test_web_app_may_use_pkce_and_then_must_send_the_verifier(world: World) -> None:
    verifier = "v" * 50
    params = {
        "client_id": WEB, "redirect_uri": REDIRECT, "response_type": "code", "scope": SCOPES,
        "code_challenge": oauth.s256(verifier), "code_challenge_method": "S256",
    }  # fmt: skip
    exchange = {"grant_type": "authorization_code", "client_id": WEB, "client_secret": WEB_SECRET}
    first = world.redirect(f"{oauth.AUTHORIZE_PATH}?{_query(params)}")["code"]
    assert world.token(**exchange, code=first, redirect_uri=REDIRECT).json()["error"] == "invalid_grant"
    second = world.redirect(f"{oauth.AUTHORIZE_PATH}?{_query(params)}")["code"]
    answer = world.token(**exchange, code=second, redirect_uri=REDIRECT, code_verifier=verifier)
    assert answer.status_code == 200, answer.text


def _query(params: dict[str, str]) -> str:
    return urlencode(params)


def _authorize(world: World, **params: str) -> Any:
    base = {"client_id": SPA, "redirect_uri": REDIRECT, "response_type": "code", "scope": SCOPES, "state": "st"}
    base |= {"code_challenge": oauth.s256("w" * 50), "code_challenge_method": "S256"}
    return world.http.get(oauth.AUTHORIZE_PATH, params={**base, **params}, follow_redirects=False)


@pytest.mark.parametrize(
    ("params", "error"),
    [({"client_id": "stranger"}, "invalid_client"), ({"redirect_uri": ""}, "invalid_request")],
)
def test_authorize_answers_400_when_it_cannot_redirect(world: World, params: dict[str, str], error: str) -> None:
    answer = _authorize(world, **params)
    assert answer.status_code == 400 and answer.json()["error"] == error


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"code_challenge": ""}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "openid frame.s2s.all"}, "invalid_scope"),
    ],
)
def test_authorize_refusals_go_back_to_the_client(world: World, params: dict[str, str], error: str) -> None:
    answer = _authorize(world, **params)
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert answer.status_code == 302 and query["error"] == [error] and query["state"] == ["st"]
    assert "code" not in query


def test_a_code_is_bound_single_use_and_short_lived(world: World) -> None:
    auth = world.web_auth()
    exchange = {"grant_type": "authorization_code", "client_id": WEB, "client_secret": WEB_SECRET}
    code = world.redirect(auth.get_authorization_url(state="s"))["code"]
    assert world.token(**exchange, code=code, redirect_uri=REDIRECT + "/other").json()["error"] == "invalid_grant"
    code = world.redirect(auth.get_authorization_url(state="s"))["code"]
    assert world.token(**{**exchange, "client_secret": "wrong"}, code=code, redirect_uri=REDIRECT).status_code == 400
    assert (
        world.token(**exchange, code=code, redirect_uri=REDIRECT).status_code == 200
    )  # the secret check spent nothing
    assert world.token(**exchange, code=code, redirect_uri=REDIRECT).json()["error"] == "invalid_grant"
    late = world.redirect(auth.get_authorization_url(state="s"))["code"]
    world.timers.advance(oauth.CODE_LIFETIME_S)
    assert world.token(**exchange, code=late, redirect_uri=REDIRECT).json()["error"] == "invalid_grant"


def test_no_offline_access_means_no_refresh_token(world: World) -> None:
    auth = WebAppAuth(
        client_id=WEB, client_secret=WEB_SECRET, redirect_uri=REDIRECT, ims_base_url=BASE,
        http_client=sdk_http(world.http), scopes="openid email profile",
    )  # fmt: skip
    result = auth.exchange_code(world.redirect(auth.get_authorization_url(state="s"))["code"])
    assert "refresh_token" not in result and world.frameio(result["access_token"]) == 200


# --- refresh -----------------------------------------------------------------------------------


def test_rotation_by_default_retires_the_old_refresh_token(world: World) -> None:
    auth = world.web_sign_in()
    old = auth.export_tokens()["refresh_token"]
    result = auth.refresh()
    assert result["refresh_token"] != old and world.frameio(result["access_token"]) == 200
    refused = world.refresh(old)
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant")
    assert world.refresh(result["refresh_token"]).status_code == 200


def test_without_rotation_the_same_refresh_token_keeps_working(make_world: Callable[..., World]) -> None:
    world = make_world(refresh_token_rotation="reuse")
    auth = world.web_sign_in()
    token = auth.export_tokens()["refresh_token"]
    for _ in range(3):
        answer = world.refresh(token)
        assert answer.status_code == 200 and answer.json()["refresh_token"] == token


def test_a_grace_keeps_the_rotated_token_for_a_while(make_world: Callable[..., World]) -> None:
    world = make_world(refresh_token_grace_s=30.0)
    old = world.web_sign_in().export_tokens()["refresh_token"]
    successor = world.refresh(old).json()["refresh_token"]
    world.timers.advance(29)
    again = world.refresh(old)
    assert again.status_code == 200 and again.json()["refresh_token"] == successor
    world.timers.advance(1)
    assert world.refresh(old).json()["error"] == "invalid_grant"
    assert world.refresh(successor).status_code == 200


def test_a_day_of_hourly_refreshes(world: World) -> None:
    auth = world.web_sign_in()
    tokens = auth.export_tokens()
    access, refresh = tokens["access_token"], tokens["refresh_token"]
    for _ in range(24):
        world.timers.advance(3600)
        assert world.frameio(access) == 401  # expired
        answer = world.refresh(refresh).json()
        assert world.frameio(answer["access_token"]) == 200
        assert world.refresh(refresh).status_code == 400  # rotated away
        access, refresh = answer["access_token"], answer["refresh_token"]


def test_an_expired_refresh_token_is_what_the_sdk_calls_expired(make_world: Callable[..., World]) -> None:
    world = make_world(refresh_token_lifetime_s=7200.0, refresh_token_rotation="reuse")
    auth = world.web_sign_in()
    world.timers.advance(7199)
    auth.refresh()
    world.timers.advance(1)
    with pytest.raises(TokenExpiredError):
        auth.refresh()


def test_short_access_tokens_expire_on_the_event_loop_timer() -> None:
    app = with_ims(create_app(SandboxConfig(seed=32, rate_limits=False, user_access_token_lifetime_s=0.2)))
    with TestClient(app, base_url=BASE) as http:
        auth = WebAppAuth(
            client_id=WEB,
            client_secret=WEB_SECRET,
            redirect_uri=REDIRECT,
            ims_base_url=BASE,
            http_client=sdk_http(http),
        )
        location = http.get(auth.get_authorization_url(state="s"), follow_redirects=False).headers["location"]
        result = auth.exchange_code(parse_qs(urlsplit(location).query)["code"][0])
        assert result["expires_in"] == 0.2

        def status() -> int:
            code: int = http.get("/v4/me", headers={"authorization": f"Bearer {result['access_token']}"}).status_code
            return code

        assert status() == 200
        wait_until(lambda: status() == 401, 5, interval=0.02, what="the user access token to expire")


# --- revoke ------------------------------------------------------------------------------------


def test_sdk_revoke_ends_the_sign_in(world: World) -> None:
    auth = world.web_sign_in()
    tokens = auth.export_tokens()
    auth.revoke()
    assert world.frameio(tokens["access_token"]) == 401
    assert world.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert world.http.get("/_sandbox/calls").json()["calls"].count(
        {"endpoint": "ims_revoke", "status": 200, "count": 2}
    ) == 1  # fmt: skip


def test_revoking_the_refresh_token_revokes_every_access_token_of_the_sign_in(make_world: Callable[..., World]) -> None:
    world = make_world(refresh_token_rotation="reuse")
    tokens = world.web_sign_in().export_tokens()
    second = world.refresh(tokens["refresh_token"]).json()["access_token"]
    basic = (WEB, WEB_SECRET)
    assert world.http.post(oauth.REVOKE_PATH, data={"token": tokens["refresh_token"]}, auth=basic).status_code == 200
    assert (world.frameio(tokens["access_token"]), world.frameio(second)) == (401, 401)
    assert world.refresh(tokens["refresh_token"]).status_code == 400


def test_revoking_an_access_token_leaves_the_refresh_token(world: World) -> None:
    auth = world.spa_auth()
    started = auth.get_authorization_url(state="s")
    tokens = auth.exchange_code(world.redirect(started.url)["code"], started.code_verifier)
    revoked = world.http.post(oauth.REVOKE_PATH, params={"client_id": SPA}, data={"token": tokens["access_token"]})
    assert revoked.status_code == 200 and world.frameio(tokens["access_token"]) == 401
    assert auth.refresh()["access_token"] != tokens["access_token"]


@pytest.mark.parametrize(
    ("auth", "token", "status", "error"),
    [
        ((SPA, ""), "signed-in", 400, "unauthorized_client"),
        ((WEB, "wrong"), "signed-in", 400, "invalid_client"),
        ((WEB, WEB_SECRET), "", 400, "invalid_request"),
        ((WEB, WEB_SECRET), "never-issued", 200, None),
    ],
)
def test_revoke_answers(world: World, auth: tuple[str, str], token: str, status: int, error: str | None) -> None:
    refresh = world.web_sign_in().export_tokens()["refresh_token"]
    body = {"token": refresh if token == "signed-in" else token}
    answer = world.http.post(oauth.REVOKE_PATH, data=body, auth=auth)
    assert answer.status_code == status
    assert (answer.json()["error"] if error else None) == error
    assert world.refresh(refresh).status_code == (400 if token == "signed-in" and status == 200 else 200)


def test_a_reset_forgets_sign_ins(world: World) -> None:
    tokens = world.web_sign_in().export_tokens()
    world.http.post("/_sandbox/reset", json={})
    assert world.frameio(tokens["access_token"]) == 401
    assert world.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "body",
    [
        {"user_access_token_lifetime_s": 0},
        {"refresh_token_rotation": "sometimes"},
        {"oauth_spa_client_ids": [""]},
        {"oauth_web_client_secret": ""},
        {"refresh_token_grace_s": -1},
    ],
)
def test_bad_user_flow_knobs_are_refused(world: World, body: dict[str, Any]) -> None:
    assert world.http.patch("/_sandbox/config", json=body).status_code == 422


def test_user_flow_knobs_change_at_run_time(world: World) -> None:
    assert world.http.patch("/_sandbox/config", json={"oauth_spa_client_ids": ["other-spa"]}).status_code == 200
    assert _authorize(world).status_code == 400
    assert _authorize(world, client_id="other-spa").status_code == 302
