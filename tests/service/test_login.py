"""``autostack login`` and ``logout`` against the sandbox's IMS stand-in (in-process): the browser
is played by following the authorize endpoint's 302 to the one-shot listener, or by pasting the
redirect URL; the sign-in lands in Redis and status names who autostack acts as."""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import socket
import threading
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import redis

from service import cli
from service.login import login_main, logout_main
from service.processes import wait_until
from service.status import run_status
from tests.workers.conftest import InProcessSandbox
from workers.frameio.auth import read_fields
from workers.frameio.usertoken import user_key
from workers.settings import ConfigError, Settings, load_settings

IMS = "http://sandbox"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def settings_for(redis_url: str, client_id: str = "sandbox-web-client", **extra: str) -> Settings:
    env = {
        "REDIS_URL": redis_url,
        "FRAMEIO_AUTH": "user",
        "FRAMEIO_CLIENT_ID": client_id,
        "FRAMEIO_IMS_URL": IMS,
        "FRAMEIO_BASE_URL": IMS,
        "FRAMEIO_REDIRECT_URI": f"http://127.0.0.1:{free_port()}/callback",
    }
    if client_id == "sandbox-web-client":
        env["FRAMEIO_CLIENT_SECRET"] = "sandbox-web-secret"
    return load_settings({**env, **extra})


class Lines(io.StringIO):
    """A stdout a test can wait on from another thread."""

    def wait_for(self, prefix: str, timeout: float = 10.0) -> str:
        def found() -> list[str]:
            return [line.strip() for line in self.getvalue().splitlines() if line.strip().startswith(prefix)]

        wait_until(lambda: bool(found()), timeout, interval=0.01, what=f"a line starting {prefix!r}")
        return found()[0]


def args(code: str | None = None, timeout: float = 20.0) -> argparse.Namespace:
    return argparse.Namespace(code=code, timeout=timeout)


def redirect_of(sandbox: InProcessSandbox, url: str) -> str:
    """What a browser would be sent to after signing in (the sandbox signs in at once)."""
    answer = sandbox.http.get(url.removeprefix(IMS), follow_redirects=False)
    assert answer.status_code == 302
    return answer.headers["location"]


def login_through_listener(sandbox: InProcessSandbox, settings: Settings) -> tuple[int, Lines, str]:
    """Run ``autostack login`` and be its browser: follow the URL it prints to the listener."""
    out = Lines()
    result: list[int] = []
    run = threading.Thread(
        target=lambda: result.append(login_main(args(), settings, out, io.StringIO(), sandbox.transport()))
    )
    run.start()
    url = out.wait_for(f"{IMS}/ims/authorize/v2?")
    page = httpx.get(redirect_of(sandbox, url), timeout=10)  # the browser lands on the listener
    run.join(20)
    assert page.status_code == 200 and "signed in" in page.text
    return result[0], out, url


def test_login_through_the_local_listener_stores_the_sign_in_and_status_names_the_user(
    sandbox: InProcessSandbox, redis_url: str, redis_client: redis.Redis
) -> None:
    settings = settings_for(redis_url)
    code, out, url = login_through_listener(sandbox, settings)
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"] and "offline_access" in query["scope"][0]
    assert code == 0, out.getvalue()
    assert "acts as Editor" in out.getvalue()
    fields = read_fields(redis_client, user_key(IMS, "sandbox-web-client"))
    assert fields["refresh_token"] and fields["token"] and fields["identity"].startswith("Editor")
    assert fields["token"] not in out.getvalue() and fields["refresh_token"] not in out.getvalue()
    status = io.StringIO()
    run_status(settings, status)
    assert "a user sign-in, acting as Editor" in status.getvalue() and "; ok;" in status.getvalue()
    assert re.search(r"access token expires \S+ \S+ UTC \(in \d+ min", status.getvalue())
    as_json = io.StringIO()
    run_status(settings, as_json, as_json=True)
    sign_in = json.loads(as_json.getvalue())["sign_in"]
    assert (sign_in["mode"], sign_in["state"]) == ("user", "ok")
    assert sign_in["token_expires_at"].endswith("+00:00")  # the token's expiry, in UTC


def test_a_pasted_redirect_signs_a_public_client_in_with_pkce(
    sandbox: InProcessSandbox, redis_url: str, redis_client: redis.Redis
) -> None:
    settings = settings_for(redis_url, client_id="sandbox-spa-client")
    out = Lines()
    reading, writing = os.pipe()
    result: list[int] = []
    with os.fdopen(reading) as stdin, os.fdopen(writing, "w") as typed:
        run = threading.Thread(
            target=lambda: result.append(login_main(args("-"), settings, out, stdin, sandbox.transport()))
        )
        run.start()
        typed.write(redirect_of(sandbox, out.wait_for(f"{IMS}/ims/authorize/v2?")) + "\n")
        typed.flush()
        run.join(20)
    assert result == [0], out.getvalue()
    assert read_fields(redis_client, user_key(IMS, "sandbox-spa-client"))["refresh_token"]


def test_a_redirect_with_another_state_is_refused_and_nothing_is_stored(
    sandbox: InProcessSandbox, redis_url: str, redis_client: redis.Redis
) -> None:
    settings = settings_for(redis_url)
    forged = "http://127.0.0.1:9/callback?code=code-forged&state=not-ours"
    out = Lines()
    assert login_main(args(forged), settings, out, io.StringIO(), sandbox.transport()) == 1
    assert "state does not match" in out.getvalue()
    assert read_fields(redis_client, user_key(IMS, "sandbox-web-client")) == {}


def test_logout_revokes_at_ims_and_forgets_the_sign_in(
    sandbox: InProcessSandbox, redis_url: str, redis_client: redis.Redis
) -> None:
    settings = settings_for(redis_url)
    assert login_through_listener(sandbox, settings)[0] == 0
    refresh = read_fields(redis_client, user_key(IMS, "sandbox-web-client"))["refresh_token"]
    assert logout_main(argparse.Namespace(), settings, io.StringIO(), sandbox.transport()) == 0
    assert read_fields(redis_client, user_key(IMS, "sandbox-web-client")) == {}
    form = {"grant_type": "refresh_token", "refresh_token": refresh, "client_id": "sandbox-web-client"}
    form["client_secret"] = "sandbox-web-secret"
    refused = sandbox.http.post("/ims/token/v3", data=form)
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant")
    status = io.StringIO()
    run_status(settings, status)
    assert "LOGGED_OUT" in status.getvalue() and "autostack login" in status.getvalue()
    assert logout_main(argparse.Namespace(), settings, io.StringIO(), sandbox.transport()) == 0  # again: nothing


def test_login_needs_the_user_sign_in_configured(redis_url: str) -> None:
    with pytest.raises(ConfigError, match="FRAMEIO_AUTH=user"):
        login_main(args(), load_settings({"FRAMEIO_TOKEN": "t"}), io.StringIO(), io.StringIO())


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"FRAMEIO_AUTH": "user"}, "FRAMEIO_CLIENT_ID"),
        ({"FRAMEIO_AUTH": "sometimes"}, "FRAMEIO_AUTH"),
        ({"FRAMEIO_AUTH": "static"}, "FRAMEIO_TOKEN"),
        ({"FRAMEIO_TOKEN": "t"}, "FRAMEIO_AUTH=user"),
    ],
)
def test_bad_sign_in_configuration_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str], named: str
) -> None:
    for name in ("FRAMEIO_AUTH", "FRAMEIO_TOKEN", "FRAMEIO_CLIENT_ID", "FRAMEIO_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["login", "--code", "x"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and named in err and "Traceback" not in err
