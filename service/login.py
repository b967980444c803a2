"""``autostack login`` and ``autostack logout``: the user sign-in every worker shares.

``login`` prints IMS's authorization URL (PKCE S256 always, a fresh ``state``), then takes the
redirect: by default on a one-shot HTTP listener at ``FRAMEIO_REDIRECT_URI`` when that is a
loopback address (``http://127.0.0.1:8765/callback``), or pasted (``--code URL``, ``--code -``
reads stdin, and stdin is read anyway when the redirect URI is not on this machine). A pasted
redirect URL, like the listener's, must carry the state that was sent; a bare code cannot, and is
taken as it is. The code is exchanged for an access and a refresh token, ``GET /v4/me`` says who
they act as, and the sign-in goes into Redis (:func:`workers.frameio.usertoken.store_sign_in`).

``logout`` revokes the refresh token at IMS (which ends the whole sign-in) and deletes it from
Redis; if IMS cannot be reached the sign-in is kept, so it can be revoked later.

Exit codes: 0 done, 1 refused or unreachable (the message says what to do), 2 configuration.
Neither command prints, logs or raises a token, a code or the client secret.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import TextIO
from urllib.parse import parse_qs, urlsplit

import httpx
import redis

from workers.frameio.auth import ImsRejected, ImsUnavailable, read_fields
from workers.frameio.errors import FrameioError
from workers.frameio.oauth import Authorization, Client, Identity, authorization, exchange_code, revoke, whoami
from workers.frameio.usertoken import SignIn, store_sign_in, user_key
from workers.settings import ConfigError, Settings

LOOPBACK = ("127.0.0.1", "localhost", "::1")
NOT_USER = (
    "`autostack {command}` is for the user sign-in: set FRAMEIO_AUTH=user and FRAMEIO_CLIENT_ID "
    "(and FRAMEIO_CLIENT_SECRET for a Web App client)"
)


class LoginFailed(Exception):
    """The sign-in did not complete; the message says why and what to do (and holds no secret)."""


def add_login_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--code", default=None, help="the redirect URL (or just its code) from the browser; '-' reads it from stdin"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the browser's redirect")


def oauth_client(settings: Settings, command: str) -> Client:
    if settings.auth_mode() != "user" or settings.frameio_client_id is None:
        raise ConfigError(NOT_USER.format(command=command))
    return Client(
        settings.frameio_ims_url,
        settings.frameio_client_id,
        settings.frameio_client_secret,
        settings.frameio_redirect_uri,
        settings.frameio_user_scopes,
    )


# -- the redirect --------------------------------------------------------------------------------


class _Callback(BaseHTTPRequestHandler):
    server: _OneShot

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        if parts.path != self.server.path or not ({"code", "error"} & set(query)):
            self.send_error(404)
            return
        self.server.received = self.path
        text = "autostack: signed in. You can close this tab." if "code" in query else "autostack: sign-in refused."
        body = text.encode()
        self.send_response(200)
        self.send_header("content-type", "text/plain; charset=utf-8")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Silent: the request line holds the authorization code."""


class _OneShot(HTTPServer):
    def __init__(self, host: str, port: int, path: str) -> None:
        super().__init__((host, port), _Callback)
        self.path = path
        self.received: str | None = None
        self.timeout = 0.2


@dataclass
class Listener:
    """A one-shot HTTP listener for IMS's redirect, bound before the URL is printed."""

    server: _OneShot

    @classmethod
    def at(cls, redirect_uri: str) -> Listener:
        parts = urlsplit(redirect_uri)
        return cls(_OneShot(parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/"))

    def wait(self, timeout_s: float) -> str:
        deadline = time.monotonic() + timeout_s
        try:
            while self.server.received is None:
                if time.monotonic() >= deadline:
                    raise LoginFailed(f"no redirect within {timeout_s:.0f} s: run `autostack login` again")
                self.server.handle_request()
            return self.server.received
        finally:
            self.server.server_close()


def listens_here(redirect_uri: str) -> bool:
    parts = urlsplit(redirect_uri)
    return parts.scheme == "http" and parts.hostname in LOOPBACK


def code_of(received: str, expected_state: str) -> str:
    """The code from a redirect URL (its state checked) or a bare pasted code."""
    received = received.strip()
    if "code=" not in received and "error=" not in received:
        if not received:
            raise LoginFailed("no code given: paste the whole redirect URL")
        return received
    query = parse_qs(urlsplit(received).query if "?" in received else received)
    if "error" in query:
        raise LoginFailed(
            f"Adobe IMS refused the sign-in ({query['error'][0][:64]}): check FRAMEIO_CLIENT_ID, "
            "FRAMEIO_REDIRECT_URI and FRAMEIO_USER_SCOPES"
        )
    if query.get("state", [""])[0] != expected_state:
        raise LoginFailed("the redirect's state does not match this sign-in: run `autostack login` again")
    return query["code"][0]


# -- login and logout ----------------------------------------------------------------------------


def login_main(
    args: argparse.Namespace,
    settings: Settings,
    out: TextIO,
    stdin: TextIO,
    transport: httpx.BaseTransport | None = None,
) -> int:
    client = oauth_client(settings, "login")
    try:
        identity, sign_in = _login(args, settings, client, out, stdin.readline, transport)
    except LoginFailed as exc:
        print(f"autostack login: {exc}", file=out)
        return 1
    when = datetime.fromtimestamp(sign_in.token.expires_at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    print(f"Signed in: autostack now acts as {identity} (Frame.io user {identity.user_id}).", file=out)
    print(f"Every worker uses this sign-in; the access token expires {when} and is renewed automatically.", file=out)
    return 0


def _login(
    args: argparse.Namespace,
    settings: Settings,
    client: Client,
    out: TextIO,
    read_line: Callable[[], str],
    transport: httpx.BaseTransport | None,
) -> tuple[Identity, SignIn]:
    request = authorization(client)
    listener = _listener(args, client, out)
    print("Open this URL in a browser and sign in to Frame.io:", file=out)
    print(f"  {request.url}", file=out, flush=True)
    if listener is not None:
        received = listener.wait(args.timeout)
    elif args.code not in (None, "-"):
        received = args.code
    else:
        print("Then paste the whole URL the browser was sent to (or its code):", file=out, flush=True)
        received = read_line()
    with httpx.Client(transport=transport, timeout=settings.frameio_timeout_s) as http:
        return _complete(http, settings, client, request, code_of(received, request.state))


def _listener(args: argparse.Namespace, client: Client, out: TextIO) -> Listener | None:
    if args.code is not None or not listens_here(client.redirect_uri):
        return None
    try:
        return Listener.at(client.redirect_uri)
    except OSError as exc:
        raise LoginFailed(f"cannot listen at FRAMEIO_REDIRECT_URI ({exc.strerror}): use --code -") from None


def _complete(
    http: httpx.Client, settings: Settings, client: Client, request: Authorization, code: str
) -> tuple[Identity, SignIn]:
    now = time.time()
    try:
        token = exchange_code(http, client, code, request.verifier, now)
    except (ImsRejected, ImsUnavailable) as exc:
        raise LoginFailed(f"{exc}: run `autostack login` again") from None
    if token.refresh_token is None:
        raise LoginFailed("Adobe IMS sent no refresh token: FRAMEIO_USER_SCOPES must include offline_access")
    try:
        identity = whoami(http, settings.frameio_base_url, token.value)
    except FrameioError as exc:
        raise LoginFailed(f"Frame.io did not say who signed in ({exc}): is this a Frame.io V4 user?") from None
    sign_in = SignIn(token, str(identity), identity.user_id, now)
    connection = redis.Redis.from_url(settings.redis_url, socket_timeout=5)
    try:
        store_sign_in(connection, user_key(client.ims_url, client.client_id), sign_in)
    except redis.RedisError as exc:
        raise LoginFailed(f"Redis did not take the sign-in ({type(exc).__name__}): check REDIS_URL") from None
    finally:
        connection.close()
    return identity, sign_in


def logout_main(
    args: argparse.Namespace, settings: Settings, out: TextIO, transport: httpx.BaseTransport | None = None
) -> int:
    client = oauth_client(settings, "logout")
    key = user_key(client.ims_url, client.client_id)
    connection = redis.Redis.from_url(settings.redis_url, socket_timeout=5)
    try:
        refresh_token = read_fields(connection, key).get("refresh_token")
        if not refresh_token:
            print("Not signed in: nothing to revoke.", file=out)
            return 0
        with httpx.Client(transport=transport, timeout=settings.frameio_timeout_s) as http:
            try:
                revoke(http, client, refresh_token)
            except (ImsRejected, ImsUnavailable) as exc:
                print(f"autostack logout: {exc}; the sign-in is kept: run `autostack logout` again", file=out)
                return 1
        connection.delete(key, key + ":failed")
    finally:
        connection.close()
    print("Signed out: the refresh token is revoked at Adobe IMS and deleted from Redis.", file=out)
    print("The workers stop calling Frame.io until `autostack login`.", file=out)
    return 0
