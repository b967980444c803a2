"""Adobe IMS user sign-in as the sandbox serves it: authorization code (+ PKCE), refresh, revoke.

Frame.io V4 accounts not administered through the Adobe Admin Console sign in as a user
(``docs/frameio.md`` §7). The flows, on IMS's paths (``sandbox/ims.py`` routes them):

- ``GET /ims/authorize/v2?client_id&redirect_uri&response_type=code&scope&state&code_challenge
  &code_challenge_method``: there is no browser, so the sandbox signs the user in at once and
  answers 302 to ``redirect_uri?code=…&state=…``. An unknown ``client_id`` or a missing
  ``redirect_uri`` is 400 with IMS's error JSON (nowhere safe to redirect to); other problems
  redirect with ``error=…`` as OAuth says. Public clients (``oauth_spa_client_ids``) must send an
  S256 challenge; the Web App client (``oauth_web_client_id``) may. Only ``S256`` is accepted.
- ``POST /ims/token/v3`` ``grant_type=authorization_code``: the code is single-use (any attempt
  spends it), lives 10 minutes, and is bound to its client and ``redirect_uri``; the PKCE verifier
  is checked when a challenge was given. The Web App client authenticates with its secret.
  Answer: ``access_token``, ``token_type``, ``expires_in`` (``user_access_token_lifetime_s``) and,
  when the scope holds ``offline_access``, ``refresh_token``.
- ``grant_type=refresh_token``: a new access token. With ``refresh_token_rotation: rotate`` also a
  new refresh token; the old one keeps working for ``refresh_token_grace_s`` (answering with the
  same successor) and then, or at once with no grace, gets 400 ``invalid_grant``. With ``reuse``
  the same refresh token comes back. Refresh tokens expire after ``refresh_token_lifetime_s``.
- ``POST /ims/revoke`` ``token=…`` (client by HTTP Basic, or ``client_id`` for a public client, as
  the SDK sends them): a refresh token revokes its whole sign-in (every refresh and access token
  of it); an access token only itself. Unknown tokens answer 200 (RFC 7009).

Access tokens go into the store's token registry for the signed-in user and leave it when they
expire or are revoked, so the Frame.io routes answer 401 afterwards, as for the S2S tokens. The
user who signs in is the seeded uploader ("Editor", a person): the account a person would use,
and the least convenient one, because that person's own uploads and the client's actions then
carry the same ``user.id`` in webhook events. All of this lives in the store (``Store.oauth``),
so a reset forgets it. Expiry runs on ``schedule`` (the IMS stand-in's, injectable in tests).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sandbox.imserrors import ImsProblem

if TYPE_CHECKING:
    from sandbox.config import SandboxConfig
    from sandbox.state import Store

AUTHORIZE_PATH = "/ims/authorize/v2"
REVOKE_PATH = "/ims/revoke"
USER_GRANTS = frozenset({"authorization_code", "refresh_token"})
USER_SCOPES = frozenset({"openid", "AdobeID", "email", "profile", "offline_access", "additional_info.roles"})
CODE_LIFETIME_S = 600.0
OFFLINE = "offline_access"

Schedule = Callable[[float, Callable[[], None]], None]
ClientKind = Literal["web", "spa"]
RefreshState = Literal["active", "grace", "retired", "revoked", "expired"]
_REFUSALS: dict[RefreshState, str] = {
    "retired": "refresh token was rotated and is no longer valid",
    "revoked": "refresh token was revoked",
    "expired": "refresh token expired",
}


@dataclass
class SignIn:
    """One user sign-in: everything issued from one authorization code."""

    client_id: str
    user_id: str
    scope: str
    access_tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)


@dataclass
class PendingCode:
    client_id: str
    redirect_uri: str
    scope: str
    user_id: str
    challenge: str | None


@dataclass
class RefreshToken:
    sign_in: SignIn
    state: RefreshState = "active"
    successor: str | None = None


@dataclass
class OAuthBook:
    """The user flows' state, kept in the store (so a reset forgets it)."""

    codes: dict[str, PendingCode] = field(default_factory=dict)
    refresh: dict[str, RefreshToken] = field(default_factory=dict)
    access: dict[str, SignIn] = field(default_factory=dict)


# --- clients ---------------------------------------------------------------------------------


def client_kind(config: SandboxConfig, client_id: str) -> ClientKind | None:
    """Which registered client ``client_id`` is, if any."""
    if secrets.compare_digest(client_id.encode(), config.oauth_web_client_id.encode()):
        return "web"
    return "spa" if client_id in config.oauth_spa_client_ids else None


def authenticate_client(config: SandboxConfig, client_id: str, secret: str | None, wrong_status: int) -> ClientKind:
    """The client's kind; raises IMS's ``invalid_client`` for an unknown id or a wrong secret."""
    kind = client_kind(config, client_id) if client_id else None
    if kind is None:
        raise ImsProblem(400, "invalid_client", "invalid client_id parameter")
    if kind == "web" and not secrets.compare_digest((secret or "").encode(), config.oauth_web_client_secret.encode()):
        raise ImsProblem(wrong_status, "invalid_client", "invalid client_secret parameter")
    return kind


def s256(verifier: str) -> str:
    """PKCE's S256 challenge: BASE64URL(SHA256(verifier)) without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


# --- authorize -------------------------------------------------------------------------------


def with_query(uri: str, params: dict[str, str]) -> str:
    """``uri`` with ``params`` added to its query."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _authorize_refusal(params: dict[str, str], kind: ClientKind) -> tuple[str, str] | None:
    """``(error, description)`` for a request to refuse by redirect, or None when it is fine."""
    if params.get("response_type") != "code":
        return "unsupported_response_type", "response_type must be code"
    unknown = sorted(set(params.get("scope", "").replace(",", " ").split()) - USER_SCOPES)
    if unknown:
        return "invalid_scope", f"invalid scope: {','.join(unknown)}"
    challenge, method = params.get("code_challenge"), params.get("code_challenge_method")
    if challenge and method != "S256":
        return "invalid_request", "code_challenge_method must be S256"
    if kind == "spa" and not challenge:
        return "invalid_request", "code_challenge is required for this client"
    return None


def authorize(store: Store, config: SandboxConfig, params: dict[str, str], schedule: Schedule) -> str:
    """Sign the uploader in and answer the redirect target; raises :class:`ImsProblem` (400)."""
    kind = client_kind(config, params.get("client_id", ""))
    if kind is None:
        raise ImsProblem(400, "invalid_client", "invalid client_id parameter")
    redirect_uri = params.get("redirect_uri", "")
    if not urlsplit(redirect_uri).scheme:
        raise ImsProblem(400, "invalid_request", "redirect_uri must be an absolute URI")
    state = {"state": params["state"]} if params.get("state") else {}
    refusal = _authorize_refusal(params, kind)
    if refusal is not None:
        return with_query(redirect_uri, {"error": refusal[0], "error_description": refusal[1], **state})
    code = f"code-{secrets.token_urlsafe(24)}"
    store.oauth.codes[code] = PendingCode(
        params["client_id"], redirect_uri, params.get("scope", ""), store.uploader_user_id, params.get("code_challenge")
    )

    def expire() -> None:
        store.oauth.codes.pop(code, None)

    schedule(CODE_LIFETIME_S, expire)
    return with_query(redirect_uri, {"code": code, **state})


# --- token -----------------------------------------------------------------------------------


def _lifetime(seconds: float) -> float | int:
    return int(seconds) if float(seconds).is_integer() else seconds


def _issue_access(store: Store, config: SandboxConfig, sign_in: SignIn, schedule: Schedule) -> str:
    token = f"ims-user-{secrets.token_urlsafe(32)}"
    store.tokens[token] = sign_in.user_id
    store.oauth.access[token] = sign_in
    sign_in.access_tokens.add(token)

    def expire() -> None:
        store.tokens.pop(token, None)
        store.oauth.access.pop(token, None)
        sign_in.access_tokens.discard(token)

    schedule(config.user_access_token_lifetime_s, expire)
    return token


def _issue_refresh(store: Store, config: SandboxConfig, sign_in: SignIn, schedule: Schedule) -> str:
    token = f"ims-refresh-{secrets.token_urlsafe(32)}"
    record = RefreshToken(sign_in)
    store.oauth.refresh[token] = record
    sign_in.refresh_tokens.add(token)

    def expire() -> None:
        if record.state in ("active", "grace"):
            record.state = "expired"

    schedule(config.refresh_token_lifetime_s, expire)
    return token


def _answer(
    store: Store, config: SandboxConfig, sign_in: SignIn, refresh: str | None, schedule: Schedule
) -> dict[str, object]:
    answer: dict[str, object] = {
        "access_token": _issue_access(store, config, sign_in, schedule),
        "token_type": "bearer",
        "expires_in": _lifetime(config.user_access_token_lifetime_s),
    }
    if refresh is not None:
        answer["refresh_token"] = refresh
    return answer


def exchange_code(store: Store, config: SandboxConfig, params: dict[str, str], schedule: Schedule) -> dict[str, object]:
    """``grant_type=authorization_code`` (client already authenticated)."""
    code = params.get("code")
    if not code:
        raise ImsProblem(400, "invalid_request", "missing code parameter")
    pending = store.oauth.codes.pop(code, None)  # single use: any attempt spends it
    if pending is None:
        raise ImsProblem(400, "invalid_grant", "invalid or already used authorization code")
    if pending.client_id != params.get("client_id") or pending.redirect_uri != params.get("redirect_uri"):
        raise ImsProblem(400, "invalid_grant", "code was issued to another client or redirect_uri")
    verifier = params.get("code_verifier", "")
    if pending.challenge is not None and not secrets.compare_digest(s256(verifier), pending.challenge):
        raise ImsProblem(400, "invalid_grant", "code_verifier does not match the code_challenge")
    sign_in = SignIn(pending.client_id, pending.user_id, pending.scope)
    offline = OFFLINE in pending.scope.replace(",", " ").split()
    refresh = _issue_refresh(store, config, sign_in, schedule) if offline else None
    return _answer(store, config, sign_in, refresh, schedule)


def _usable_refresh(store: Store, params: dict[str, str]) -> tuple[str, RefreshToken]:
    token = params.get("refresh_token")
    if not token:
        raise ImsProblem(400, "invalid_request", "missing refresh_token parameter")
    record = store.oauth.refresh.get(token)
    if record is None:
        raise ImsProblem(400, "invalid_grant", "invalid refresh token")
    if record.state not in ("active", "grace"):
        raise ImsProblem(400, "invalid_grant", _REFUSALS[record.state])
    if record.sign_in.client_id != params.get("client_id"):
        raise ImsProblem(400, "invalid_grant", "refresh token was issued to another client")
    return token, record


def _rotate(store: Store, config: SandboxConfig, record: RefreshToken, schedule: Schedule) -> str:
    successor = _issue_refresh(store, config, record.sign_in, schedule)
    record.successor = successor
    if config.refresh_token_grace_s <= 0:
        record.state = "retired"
        return successor
    record.state = "grace"

    def retire() -> None:
        if record.state == "grace":
            record.state = "retired"

    schedule(config.refresh_token_grace_s, retire)
    return successor


def refresh(store: Store, config: SandboxConfig, params: dict[str, str], schedule: Schedule) -> dict[str, object]:
    """``grant_type=refresh_token`` (client already authenticated)."""
    token, record = _usable_refresh(store, params)
    if record.state == "grace":
        next_token = record.successor
    elif config.refresh_token_rotation == "rotate":  # noqa: S105 - a policy name, not a secret
        next_token = _rotate(store, config, record, schedule)
    else:
        next_token = token
    return _answer(store, config, record.sign_in, next_token, schedule)


def user_token(
    store: Store, config: SandboxConfig, params: dict[str, str], schedule: Schedule, wrong_secret_status: int
) -> dict[str, object]:
    """The token endpoint's answer to the user grants; raises :class:`ImsProblem`."""
    authenticate_client(config, params.get("client_id", ""), params.get("client_secret"), wrong_secret_status)
    if params.get("grant_type") == "authorization_code":
        return exchange_code(store, config, params, schedule)
    return refresh(store, config, params, schedule)


# --- revoke ----------------------------------------------------------------------------------


def _end_sign_in(store: Store, sign_in: SignIn) -> None:
    for token in sign_in.refresh_tokens:
        store.oauth.refresh[token].state = "revoked"
    for token in sign_in.access_tokens:
        store.tokens.pop(token, None)
        store.oauth.access.pop(token, None)
    sign_in.access_tokens.clear()


def revoke(store: Store, client_id: str, token: str) -> None:
    """Revoke ``token`` for the (already authenticated) client ``client_id``."""
    record = store.oauth.refresh.get(token)
    sign_in = record.sign_in if record is not None else store.oauth.access.get(token)
    if sign_in is None:
        return  # unknown or expired: nothing to do, and RFC 7009 says answer 200
    if sign_in.client_id != client_id:
        raise ImsProblem(400, "unauthorized_client", "token was issued to another client")
    if record is not None:
        _end_sign_in(store, sign_in)
        return
    store.tokens.pop(token, None)
    store.oauth.access.pop(token, None)
    sign_in.access_tokens.discard(token)
