"""The credential's state as status, /readyz and the metrics tell it: a static token's expiry read
from its JWT (IMS's created_at + expires_in, or exp), an opaque token's unknown expiry, a 401
noted in Redis by fingerprint, the user sign-in's and server-to-server's states."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import httpx
import pytest
import redis
from pydantic import SecretStr
from starlette.testclient import TestClient

from service.app import create_app
from service.metrics_port import render_text as render_metrics
from service.status import run_status
from workers import credentials
from workers.frameio.auth import StaticToken, Token, s2s_key
from workers.frameio.client import FrameioClient
from workers.frameio.credential import STATIC_REJECTED_KEY, classify, token_expiry
from workers.frameio.errors import Unauthorized
from workers.frameio.usertoken import SignIn, store_sign_in, user_key
from workers.settings import Settings, load_settings

NOW = 1_800_000_000.0
HOUR = 3600.0


def jwt(claims: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256'})}.{part(claims)}.c2lnbmF0dXJl"


def ims_token(expires_at: float) -> str:
    """An Adobe IMS access token's shape: created_at and expires_in, strings of milliseconds."""
    created_ms, lifetime_ms = int((expires_at - 24 * HOUR) * 1000), int(24 * HOUR * 1000)
    return jwt({"type": "access_token", "created_at": str(created_ms), "expires_in": str(lifetime_ms)})


def static(redis_url: str, token: str) -> Settings:
    return load_settings({"REDIS_URL": redis_url, "FRAMEIO_TOKEN": token})


def test_the_expiry_comes_from_ims_claims_or_exp_and_an_opaque_token_has_none() -> None:
    assert token_expiry(ims_token(NOW + 600)) == pytest.approx(NOW + 600)
    assert token_expiry(jwt({"exp": NOW + 5})) == NOW + 5
    assert token_expiry("sandbox-token") is None
    assert token_expiry("a.b.c") is None and token_expiry(jwt({"sub": "x"})) is None


def test_classify_names_expiring_and_expired() -> None:
    assert classify(None, NOW, HOUR) == "ok"
    assert classify(NOW + 2 * HOUR, NOW, HOUR) == "ok"
    assert classify(NOW + HOUR / 2, NOW, HOUR) == "expiring"
    assert classify(NOW - 1, NOW, HOUR) == "expired"


@pytest.mark.parametrize(("expires_in", "state"), [(2 * HOUR, "ok"), (HOUR / 2, "expiring"), (-60.0, "expired")])
def test_a_static_jwt_is_ok_expiring_or_expired(
    redis_url: str, redis_client: redis.Redis, expires_in: float, state: str
) -> None:
    found = credentials.inspect(static(redis_url, ims_token(NOW + expires_in)), redis_client, NOW)
    assert (found.mode, found.state) == ("static", state)
    assert found.expires_at == pytest.approx(NOW + expires_in)
    line = credentials.describe(found, NOW)
    assert ("FRAMEIO_TOKEN" in line) == (state != "ok")


def test_an_opaque_static_token_says_its_expiry_is_unknown(redis_url: str, redis_client: redis.Redis) -> None:
    found = credentials.inspect(static(redis_url, "opaque-token"), redis_client, NOW)
    assert (found.state, found.expires_at) == ("ok", None)
    assert "expiry unknown" in credentials.describe(found, NOW)
    assert "autostack_frameio_token_expires_in_seconds" not in credentials.gauges(found, NOW)


def test_a_401_to_the_static_token_makes_it_rejected_until_the_token_changes(
    redis_url: str, redis_client: redis.Redis
) -> None:
    settings = static(redis_url, ims_token(NOW + 10 * HOUR))
    assert settings.frameio_token is not None
    client = FrameioClient(
        "http://sandbox",
        StaticToken(settings.frameio_token, redis_client),
        transport=httpx.MockTransport(lambda request: httpx.Response(401)),
    )
    with pytest.raises(Unauthorized):
        client.list_folder_children("acc", "folder")
    assert credentials.inspect(settings, redis_client, NOW).state == "rejected"
    secret = settings.frameio_token.get_secret_value().encode()
    noted = [(key, redis_client.get(key) or b"") for key in redis_client.scan_iter(STATIC_REJECTED_KEY + "*")]
    assert noted and all(secret not in key + value for key, value in noted)
    assert credentials.inspect(static(redis_url, "a-new-token"), redis_client, NOW).state == "ok"


def user_settings(redis_url: str) -> Settings:
    return load_settings(
        {"REDIS_URL": redis_url, "FRAMEIO_AUTH": "user", "FRAMEIO_CLIENT_ID": "web", "FRAMEIO_CLIENT_SECRET": "s"}
    )


def test_the_user_sign_in_is_logged_out_ok_or_rejected(redis_url: str, redis_client: redis.Redis) -> None:
    settings = user_settings(redis_url)
    assert credentials.inspect(settings, redis_client, NOW).state == "logged_out"
    key = user_key(settings.frameio_ims_url, "web")
    token = Token("access", NOW + 100, NOW + 400, "refresh")
    store_sign_in(redis_client, key, SignIn(token, "Editor <editor@example.com>", "u1", NOW))
    found = credentials.inspect(settings, redis_client, NOW)
    assert (found.state, found.identity, found.expires_at) == ("ok", "Editor <editor@example.com>", NOW + 400)
    assert "acting as Editor <editor@example.com>" in credentials.describe(found, NOW)
    redis_client.hset(key, "refused", "invalid_grant")
    found = credentials.inspect(settings, redis_client, NOW)
    assert found.state == "rejected" and "autostack login" in credentials.describe(found, NOW)


def test_server_to_server_refused_by_ims_is_rejected(redis_url: str, redis_client: redis.Redis) -> None:
    settings = load_settings({"REDIS_URL": redis_url, "FRAMEIO_CLIENT_ID": "c", "FRAMEIO_CLIENT_SECRET": "s"})
    assert credentials.inspect(settings, redis_client, NOW).state == "ok"
    key = s2s_key(settings.frameio_ims_url, "c", settings.frameio_ims_scopes)
    redis_client.set(key + ":failed", json.dumps({"kind": "rejected", "status": 400, "extra": "invalid_client"}))
    assert credentials.inspect(settings, redis_client, NOW).state == "rejected"


def test_readyz_metrics_and_status_name_an_expired_static_token(redis_url: str, redis_client: redis.Redis) -> None:
    token = ims_token(1_000_000.0)  # long expired
    settings = load_settings({"REDIS_URL": redis_url, "FRAMEIO_TOKEN": token, "FRAMEIO_WEBHOOK_SECRETS": "whsec"})
    with TestClient(create_app(settings)) as web:
        ready = web.get("/readyz")
        metrics = render_metrics(web.app.state.webhooks)  # type: ignore[attr-defined]
    assert ready.status_code == 200  # still accepting deliveries into Redis
    body = ready.json()
    assert body["status"] == "degraded" and body["frameio"]["state"] == "expired"
    assert body["frameio"]["expires_in_s"] < 0
    assert 'autostack_frameio_token_state{state="expired"} 1.0' in metrics
    assert 'autostack_frameio_token_state{state="ok"} 0.0' in metrics
    assert "autostack_frameio_token_expires_in_seconds -" in metrics
    out = io.StringIO()
    assert run_status(settings, out) == 0
    assert "EXPIRED" in out.getvalue() and token not in out.getvalue() + ready.text + metrics


def test_readyz_is_ok_with_a_live_sign_in(redis_url: str, redis_client: redis.Redis) -> None:
    settings = load_settings(
        {
            "REDIS_URL": redis_url,
            "FRAMEIO_WEBHOOK_SECRETS": "whsec",
            "FRAMEIO_AUTH": "user",
            "FRAMEIO_CLIENT_ID": "web",
            "FRAMEIO_CLIENT_SECRET": "s",
        }
    )
    with TestClient(create_app(settings)) as web:
        assert web.get("/readyz").json()["frameio"]["state"] == "logged_out"
        token = Token("access", 2e9, 2e9 + 300, "refresh")
        store_sign_in(redis_client, user_key(settings.frameio_ims_url, "web"), SignIn(token, "Editor", "u1", NOW))
        body = web.get("/readyz").json()
    assert body["status"] == "ok" and body["frameio"]["identity"] == "Editor"


def test_the_settings_say_how_autostack_signs_in(redis_url: str) -> None:
    assert static(redis_url, "t").auth_mode() == "static"
    pair = {"FRAMEIO_CLIENT_ID": "c", "FRAMEIO_CLIENT_SECRET": SecretStr("s").get_secret_value()}
    assert load_settings(pair).auth_mode() == "server_to_server"
    assert load_settings({"FRAMEIO_AUTH": "user", "FRAMEIO_CLIENT_ID": "spa"}).auth_mode() == "user"
    assert load_settings({"FRAMEIO_AUTH": "user", "FRAMEIO_TOKEN": "t", "FRAMEIO_CLIENT_ID": "c"}).auth_mode() == "user"


def test_each_account_of_the_accounts_file_shows_its_own_state(
    redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    good, refused = ims_token(NOW + 30 * 24 * HOUR), "account-two-refused-token"
    accounts = tmp_path / "accounts.toml"
    rows = f'[acc-1]\ntoken = "{good}"\n\n[acc-2]\ntoken = "{refused}"\n\n'
    accounts.write_text(rows + '[acc-3]\nclient_id = "c3"\nclient_secret = "account-three-secret"\n')
    env = {"REDIS_URL": redis_url, "FRAMEIO_WEBHOOK_SECRETS": "whsec", "FRAMEIO_ACCOUNTS_FILE": str(accounts)}
    settings = load_settings(env)
    StaticToken(SecretStr(refused), redis_client, account="acc-2").invalidate(refused)  # Frame.io said 401
    key = s2s_key(settings.frameio_ims_url, "c3", settings.frameio_ims_scopes)
    redis_client.set(key + ":failed", json.dumps({"kind": "rejected", "status": 400, "extra": "invalid_client"}))

    with TestClient(create_app(settings)) as web:
        body = web.get("/readyz").json()
        metrics = render_metrics(web.app.state.webhooks)  # type: ignore[attr-defined]
    assert body["status"] == "degraded" and body["frameio"] is None  # no default credential: none shown
    assert {account: view["state"] for account, view in body["accounts"].items()} == {
        "acc-1": "ok",
        "acc-2": "rejected",
        "acc-3": "rejected",
    }
    assert 'autostack_frameio_token_state{account="acc-2",state="rejected"} 1.0' in metrics
    assert 'autostack_frameio_token_state{account="acc-1",state="ok"} 1.0' in metrics
    assert 'autostack_frameio_token_expires_in_seconds{account="acc-1"}' in metrics
    assert "autostack_frameio_token_state{state=" not in metrics  # the unset default has no series

    text, as_json = io.StringIO(), io.StringIO()
    run_status(settings, text, last=0)
    run_status(settings, as_json, last=0, as_json=True)
    lines = text.getvalue().splitlines()
    assert "no default credential" in lines[0]
    assert any("account acc-2: a static token; REJECTED" in line and "acc-2's row" in line for line in lines)
    assert any("account acc-3: server-to-server; REJECTED" in line for line in lines)
    facts = json.loads(as_json.getvalue())
    assert [(row["account"], row["state"]) for row in facts["accounts"]] == [
        ("acc-1", "ok"),
        ("acc-2", "rejected"),
        ("acc-3", "rejected"),
    ]
    shown = json.dumps(body) + metrics + text.getvalue() + as_json.getvalue()
    assert good not in shown and refused not in shown and "account-three-secret" not in shown


def test_with_every_account_ok_readyz_is_ok_and_the_default_shows_beside_them(
    redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    accounts = tmp_path / "accounts.toml"
    accounts.write_text('[acc-1]\ntoken = "opaque-account-token"\n')
    env = {"REDIS_URL": redis_url, "FRAMEIO_WEBHOOK_SECRETS": "whsec", "FRAMEIO_ACCOUNTS_FILE": str(accounts)}
    settings = load_settings({**env, "FRAMEIO_TOKEN": "opaque-default-token"})
    with TestClient(create_app(settings)) as web:
        body = web.get("/readyz").json()
    assert body["status"] == "ok"
    assert body["frameio"]["auth"] == "static" and body["accounts"]["acc-1"]["state"] == "ok"
