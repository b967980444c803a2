"""The sandbox's Adobe IMS stand-in: ``POST /ims/token/v3`` and the tokens it issues.

In-process (Starlette's TestClient). Expiry is fired by hand through an injected ``schedule``
(no sleeping), except one test that lets the sandbox's own event-loop timer do it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from sandbox import ims
from sandbox.app import create_app
from sandbox.config import SandboxConfig
from service.processes import wait_until

FORM = {
    "grant_type": "client_credentials",
    "client_id": ims.DEMO_CLIENT_ID,
    "client_secret": ims.DEMO_CLIENT_SECRET,
    "scope": "openid,AdobeID,frame.s2s.all",
}


@dataclass
class ManualTimers:
    """An injected ``schedule``: callbacks fire when the test advances the time."""

    now: float = 0.0
    pending: list[tuple[float, Callable[[], None]]] = field(default_factory=list)

    def __call__(self, delay: float, callback: Callable[[], None]) -> None:
        self.pending.append((self.now + delay, callback))

    def advance(self, seconds: float) -> None:
        # Fired from the test's thread while the app is idle between requests.
        self.now += seconds
        due = [entry for entry in self.pending if entry[0] <= self.now]
        self.pending = [entry for entry in self.pending if entry[0] > self.now]
        for _, callback in sorted(due, key=lambda entry: entry[0]):
            callback()


def with_ims(app: Starlette) -> Starlette:
    """The IMS routes on ``app``, unless ``create_app`` already serves them."""
    if not any(getattr(route, "path", None) == ims.TOKEN_PATH for route in app.router.routes):
        app.router.routes.extend(ims.ROUTES)
    return app


@dataclass
class World:
    http: TestClient
    state: dict[str, str]
    timers: ManualTimers
    stand_in: ims.ImsStandIn

    def token(self, **form: str) -> Any:
        return self.http.post(ims.TOKEN_PATH, data={**FORM, **form})

    def issue(self) -> str:
        answer = self.token()
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["access_token"]
        return token

    def frameio(self, token: str) -> int:
        """Status of a Frame.io call (show the root folder) made with ``token``."""
        path = f"/v4/accounts/{self.state['account_id']}/folders/{self.state['root_folder_id']}"
        status: int = self.http.get(path, headers={"authorization": f"Bearer {token}"}).status_code
        return status

    def calls(self, status: int) -> int:
        rows = self.http.get("/_sandbox/calls").json()["calls"]
        return sum(row["count"] for row in rows if row["endpoint"] == ims.ENDPOINT and row["status"] == status)


@pytest.fixture
def world() -> Iterator[World]:
    app = with_ims(create_app(SandboxConfig(seed=11, rate_limits=False, transcode_delay_s=0.0)))
    timers = ManualTimers()
    stand_in = ims.install(app, ims.ImsConfig(expires_in=600), schedule=timers)
    with TestClient(app) as http:
        yield World(http, http.get("/_sandbox/state").json(), timers, stand_in)


def test_issues_a_bearer_token_in_ims_shape(world: World) -> None:
    answer = world.token()
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 600
    assert body["access_token"].startswith("ims-") and len(body["access_token"]) > 30
    assert answer.headers["cache-control"] == "no-store"
    assert world.issue() != body["access_token"]  # every request gets a token of its own


def test_an_issued_token_acts_as_the_service_account_user(world: World) -> None:
    token = world.issue()
    assert world.frameio(token) == 200
    account, root = world.state["account_id"], world.state["root_folder_id"]
    headers = {"authorization": f"Bearer {token}"}
    created = world.http.post(
        f"/v4/accounts/{account}/folders/{root}/folders", json={"data": {"name": "by-ims"}}, headers=headers
    )
    assert created.status_code == 201, created.text
    shown = world.http.get(
        f"/v4/accounts/{account}/folders/{created.json()['data']['id']}", params={"include": "creator"}, headers=headers
    ).json()["data"]
    assert shown["creator"]["id"] == world.state["user_id"]


def test_a_token_is_accepted_until_it_expires_then_401(world: World) -> None:
    first = world.issue()
    world.timers.advance(300)
    second = world.issue()
    world.timers.advance(299)
    assert (world.frameio(first), world.frameio(second)) == (200, 200)
    world.timers.advance(1)  # the first one's 600 s are over
    assert (world.frameio(first), world.frameio(second)) == (401, 200)
    world.timers.advance(300)
    assert world.frameio(second) == 401
    assert world.frameio(world.state["token"]) == 200  # the seeded static token is untouched


def test_the_event_loop_timer_expires_a_token_without_an_injected_schedule() -> None:
    app = with_ims(create_app(SandboxConfig(seed=12, rate_limits=False, transcode_delay_s=0.0)))
    ims.install(app, ims.ImsConfig(expires_in=0.2))
    with TestClient(app) as http:
        state = http.get("/_sandbox/state").json()
        token = http.post(ims.TOKEN_PATH, data=FORM).json()["access_token"]
        path = f"/v4/accounts/{state['account_id']}/folders/{state['root_folder_id']}"

        def status() -> int:
            code: int = http.get(path, headers={"authorization": f"Bearer {token}"}).status_code
            return code

        assert status() == 200
        wait_until(lambda: status() == 401, 5, interval=0.02, what="the IMS token to expire")


def test_default_knobs_and_state_made_on_first_use() -> None:
    app = with_ims(create_app(SandboxConfig(seed=13, rate_limits=False)))
    with TestClient(app) as http:
        answer = http.post(ims.TOKEN_PATH, data=FORM)
        assert answer.status_code == 200 and answer.json()["expires_in"] == 86399
        assert isinstance(app.state.ims, ims.ImsStandIn) and app.state.ims.issued == 1


@pytest.mark.parametrize(
    ("form", "status", "error", "description"),
    [
        ({"client_id": "someone-else"}, 400, "invalid_client", "invalid client_id parameter"),
        ({"client_secret": "wrong"}, 400, "invalid_client", "invalid client_secret parameter"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type", "unsupported grant_type parameter"),
        ({"grant_type": "authorization_code"}, 400, "invalid_client", "invalid client_id parameter"),  # S2S client
        ({"grant_type": ""}, 400, "invalid_request", "missing grant_type parameter"),
        ({"scope": ""}, 400, "invalid_request", "missing scope parameter"),
        ({"client_secret": ""}, 400, "invalid_request", "missing client_secret parameter"),
        ({"scope": "openid,AdobeID,frame.s2s.all,admin"}, 400, "invalid_scope", "invalid scope: admin"),
    ],
)
def test_refusals_in_ims_shape(world: World, form: dict[str, str], status: int, error: str, description: str) -> None:
    answer = world.token(**form)
    assert (answer.status_code, answer.json()) == (status, {"error": error, "error_description": description})
    assert world.calls(status) == 1 and world.stand_in.issued == 0


def test_a_wrong_secret_can_answer_401(world: World) -> None:
    assert world.http.patch("/_sandbox/ims", json={"wrong_secret_status": 401}).status_code == 200
    answer = world.token(client_secret="wrong")
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"


def test_scopes_space_separated_and_parameters_in_the_query_are_accepted(world: World) -> None:
    assert world.token(scope="openid AdobeID frame.s2s.all").status_code == 200
    assert world.http.post(ims.TOKEN_PATH, params={**FORM, "scope": "openid"}).status_code == 200


def test_a_json_body_is_refused(world: World) -> None:
    answer = world.http.post(ims.TOKEN_PATH, json=FORM)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"


def test_injected_failures_answer_in_order_then_tokens_again(world: World) -> None:
    assert world.http.patch("/_sandbox/ims", json={"fail_next": [503, 429, 500]}).json()["fail_next"] == [503, 429, 500]
    first, second, third = world.token(), world.token(), world.token()
    assert (first.status_code, first.json()["error"]) == (503, "server_error")
    assert (second.status_code, second.headers["retry-after"]) == (429, "1")
    assert third.status_code == 500
    assert world.token().status_code == 200
    assert [world.calls(status) for status in (503, 429, 500, 200)] == [1, 1, 1, 1]


def test_knobs_change_at_run_time_and_never_show_the_secret(world: World) -> None:
    view = world.http.patch(
        "/_sandbox/ims", json={"client_id": "cid-2", "client_secret": "sec-2", "expires_in": 30}
    ).json()
    assert view["client_id"] == "cid-2" and view["expires_in"] == 30
    assert "sec-2" not in world.http.get("/_sandbox/ims").text
    assert ims.DEMO_CLIENT_SECRET not in repr(world.stand_in)
    assert world.token().status_code == 400  # the demo credentials no longer work
    answer = world.token(client_id="cid-2", client_secret="sec-2")
    assert answer.status_code == 200 and answer.json()["expires_in"] == 30


@pytest.mark.parametrize(
    "body",
    [
        {"nope": 1},
        {"expires_in": 0},
        {"expires_in": True},
        {"client_secret": ""},
        {"wrong_secret_status": 403},
        {"fail_next": [200]},
        {"allowed_scopes": "openid"},
        ["not", "an", "object"],
    ],
)
def test_bad_knobs_are_refused_whole(world: World, body: Any) -> None:
    before = world.http.get("/_sandbox/ims").json()
    answer = world.http.patch("/_sandbox/ims", json=body if not isinstance(body, dict) else {"client_id": "x", **body})
    assert answer.status_code == 422, answer.text
    assert world.http.get("/_sandbox/ims").json() == before


def test_a_reset_world_forgets_issued_tokens(world: World) -> None:
    token = world.issue()
    state = world.http.post("/_sandbox/reset", json={}).json()
    world.state = state
    assert world.frameio(token) == 401
    world.timers.advance(600)  # the old timer firing on a replaced store is harmless
    assert world.frameio(world.issue()) == 200
