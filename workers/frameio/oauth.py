"""Adobe IMS user sign-in, the client side: the authorization URL with PKCE, the code exchange,
revocation, and who a token acts as (``GET /v4/me``). ``docs/frameio.md`` §7.

PKCE (S256) is sent on every authorization, for the Web App client (which also sends its secret)
as much as for a public client (which has none). The secret goes in the token request's form (as
the SDK sends it) and, for revocation, as HTTP Basic; no error raised here carries a token, the
secret or an IMS ``error_description``.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from pydantic import SecretStr

from workers.frameio.auth import ImsUnavailable, Token, error_for, parse_token, post_form
from workers.frameio.errors import FrameioError, error_for_status

AUTHORIZE_PATH = "/ims/authorize/v2"
TOKEN_PATH = "/ims/token/v3"  # noqa: S105 - a URL path, not a password
REVOKE_PATH = "/ims/revoke"
ME_PATH = "/v4/me"


@dataclass(frozen=True)
class Client:
    """The IMS OAuth client: a Web App (with a secret) or a public client (without)."""

    ims_url: str
    client_id: str
    secret: SecretStr | None
    redirect_uri: str
    scopes: str

    def credentials(self) -> dict[str, str]:
        form = {"client_id": self.client_id}
        if self.secret is not None:
            form["client_secret"] = self.secret.get_secret_value()
        return form


@dataclass(frozen=True)
class Authorization:
    """One sign-in attempt: the URL to open, and what the redirect must match."""

    url: str
    state: str
    verifier: str


@dataclass(frozen=True)
class Identity:
    user_id: str
    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.email else self.name or self.user_id


def s256(verifier: str) -> str:
    """PKCE's S256 challenge of ``verifier``."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def authorization(client: Client) -> Authorization:
    """A fresh state and PKCE verifier, and the URL that asks IMS to sign a user in."""
    state, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    query = {
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uri,
        "response_type": "code",
        "scope": ",".join(client.scopes.replace(",", " ").split()),
        "state": state,
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
    }
    return Authorization(f"{client.ims_url.rstrip('/')}{AUTHORIZE_PATH}?{urlencode(query)}", state, verifier)


def exchange_code(http: httpx.Client, client: Client, code: str, verifier: str, now: float) -> Token:
    """The tokens for an authorization ``code``; raises ImsRejected / ImsUnavailable."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": client.redirect_uri}
    form |= {"code_verifier": verifier, **client.credentials()}
    answer = post_form(http, client.ims_url.rstrip("/") + TOKEN_PATH, form)
    if isinstance(answer, str):
        raise ImsUnavailable(None, answer)
    if answer.status_code != 200:
        raise error_for(answer)
    token = parse_token(answer, now, 300.0)
    if token is None:
        raise ImsUnavailable(200, "the answer has no access_token")
    return token


def revoke(http: httpx.Client, client: Client, token: str) -> None:
    """Revoke ``token`` at IMS (a refresh token ends its whole sign-in); raises on failure."""
    form = {"token": token}
    auth: httpx.Auth | None = None
    if client.secret is None:
        form["client_id"] = client.client_id
    else:
        auth = httpx.BasicAuth(client.client_id, client.secret.get_secret_value())
    answer = post_form(http, client.ims_url.rstrip("/") + REVOKE_PATH, form, auth)
    if isinstance(answer, str):
        raise ImsUnavailable(None, answer)
    if answer.status_code != 200:
        raise error_for(answer)


def whoami(http: httpx.Client, base_url: str, token: str) -> Identity:
    """Who ``token`` acts as in Frame.io (``GET /v4/me``)."""
    try:
        answer = http.get(base_url.rstrip("/") + ME_PATH, headers={"authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        raise FrameioError("me", None, type(exc).__name__) from None
    if answer.status_code != 200:
        raise error_for_status("me", answer.status_code, "", None)
    data: dict[str, Any] = _data(answer)
    return Identity(str(data.get("id", "")), str(data.get("name", "")), str(data.get("email", "")))


def _data(answer: httpx.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) else {}
