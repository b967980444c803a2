"""Adobe IMS as the sandbox serves it: ``POST /ims/token/v3`` (all grants), authorize and revoke.

The user grants (``authorization_code``, ``refresh_token``), ``GET /ims/authorize/v2`` and
``POST /ims/revoke`` are described in ``sandbox/oauth.py``; their knobs are ``SandboxConfig``'s
(``user_access_token_lifetime_s``, ``refresh_token_*``, ``oauth_*``). The rest of this docstring is
about the server-to-server grant, ``client_credentials``.

The request is Adobe's documented form (``application/x-www-form-urlencoded``; parameters may also
come as query parameters): ``grant_type=client_credentials&client_id=…&client_secret=…&scope=…``,
scopes comma- or space-separated. The answer is ``{"access_token", "token_type": "bearer",
"expires_in"}`` (seconds), or IMS's error shape ``{"error", "error_description"}``:

- ``grant_type`` other than ``client_credentials`` or the user grants -> 400 ``unsupported_grant_type``;
- a parameter missing -> 400 ``invalid_request``;
- an unknown client id -> 400 ``invalid_client`` ("invalid client_id parameter");
- a wrong secret -> ``wrong_secret_status`` (400, as IMS is seen to answer; 401 on request)
  ``invalid_client`` ("invalid client_secret parameter");
- a scope outside ``allowed_scopes`` -> 400 ``invalid_scope``.

Every issued token is put into the sandbox's own token registry (``Store.tokens``, the one the
gateway authenticates against), standing for the seeded service account user (the user behind
``SandboxConfig.token``), and taken out again when it expires, by a timer on the sandbox's event
loop; so the Frame.io routes accept it until then and answer 401 after, with no change to the
gateway. Tests inject ``schedule`` to fire the expiry by hand (no sleeping).

The stand-in's state lives on the app (``app.state.ims``), made with defaults on first use;
:func:`install` sets one up with other knobs. Control routes: ``GET``/``PATCH /_sandbox/ims``
(knobs, and ``fail_next``: statuses to answer the next token requests with, e.g. ``[503]``).
Token requests are counted in ``/_sandbox/calls`` as endpoint ``ims_token`` (authorize and revoke
as ``ims_authorize`` and ``ims_revoke``); ``fail_next`` applies to token requests of every grant.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from sandbox import oauth
from sandbox.gateway import sandbox_of
from sandbox.imserrors import ImsProblem
from sandbox.runtime import Sandbox

TOKEN_PATH = "/ims/token/v3"  # noqa: S105 - a URL path, not a password
DEMO_CLIENT_ID = "sandbox-client-id"
DEMO_CLIENT_SECRET = "sandbox-client-secret"  # noqa: S105 - a well-known fake secret, by design
S2S_SCOPES = ("openid", "AdobeID", "frame.s2s.all")
ENDPOINT = "ims_token"

Schedule = Callable[[float, Callable[[], None]], None]
"""``schedule(delay_s, callback)``: run ``callback`` once, ``delay_s`` seconds from now."""


@dataclass
class ImsConfig:
    """The stand-in's knobs (also settable at run time with ``PATCH /_sandbox/ims``)."""

    client_id: str = DEMO_CLIENT_ID
    client_secret: str = field(default=DEMO_CLIENT_SECRET, repr=False)
    expires_in: float = 86399.0
    """Lifetime of an issued token in seconds (IMS's sample answer says 86399); short for tests."""
    allowed_scopes: tuple[str, ...] = S2S_SCOPES
    wrong_secret_status: int = 400


__all__ = ["ImsConfig", "ImsProblem", "ImsStandIn", "install", "split_scopes", "stand_in_of"]


class ImsStandIn:
    """The IMS token endpoint's state: knobs, failures to inject, and what it has issued."""

    def __init__(self, config: ImsConfig | None = None, *, schedule: Schedule | None = None) -> None:
        self.config = config or ImsConfig()
        self.schedule = schedule
        self.fail_next: list[int] = []
        self.issued = 0

    def __repr__(self) -> str:
        return f"ImsStandIn({self.config!r}, issued={self.issued})"

    def token(self, sandbox: Sandbox, params: dict[str, str]) -> dict[str, Any]:
        """Check a token request and issue a token; raises :class:`ImsProblem`."""
        if self.fail_next:
            status = self.fail_next.pop(0)
            raise ImsProblem(status, _ERRORS.get(status, "server_error"), "injected failure")
        if params.get("grant_type") in oauth.USER_GRANTS:
            config, schedule = sandbox.config, self.schedule or sandbox.call_later
            answer = oauth.user_token(sandbox.store, config, params, schedule, self.config.wrong_secret_status)
            self.issued += 1
            return answer
        self._check(params)
        access_token = f"ims-{secrets.token_urlsafe(32)}"
        store = sandbox.store
        store.tokens[access_token] = store.api_user_id
        expires_in = self.config.expires_in

        def expire() -> None:
            store.tokens.pop(access_token, None)

        (self.schedule or sandbox.call_later)(expires_in, expire)
        self.issued += 1
        lifetime: float | int = int(expires_in) if float(expires_in).is_integer() else expires_in
        return {"access_token": access_token, "token_type": "bearer", "expires_in": lifetime}

    def _check(self, params: dict[str, str]) -> None:
        config = self.config
        grant = params.get("grant_type")
        if not grant:
            raise ImsProblem(400, "invalid_request", "missing grant_type parameter")
        if grant != "client_credentials":
            raise ImsProblem(400, "unsupported_grant_type", "unsupported grant_type parameter")
        for name in ("client_id", "client_secret", "scope"):
            if not params.get(name):
                raise ImsProblem(400, "invalid_request", f"missing {name} parameter")
        if not secrets.compare_digest(params["client_id"].encode(), config.client_id.encode()):
            raise ImsProblem(400, "invalid_client", "invalid client_id parameter")
        if not secrets.compare_digest(params["client_secret"].encode(), config.client_secret.encode()):
            raise ImsProblem(config.wrong_secret_status, "invalid_client", "invalid client_secret parameter")
        unknown = sorted(set(split_scopes(params["scope"])) - set(config.allowed_scopes))
        if unknown:
            raise ImsProblem(400, "invalid_scope", f"invalid scope: {','.join(unknown)}")

    def view(self) -> dict[str, Any]:
        """The knobs (without the secret) and the count of tokens issued."""
        config = self.config
        return {
            "client_id": config.client_id,
            "expires_in": config.expires_in,
            "allowed_scopes": list(config.allowed_scopes),
            "wrong_secret_status": config.wrong_secret_status,
            "fail_next": list(self.fail_next),
            "issued": self.issued,
        }

    def update(self, body: dict[str, Any]) -> None:
        """Apply ``PATCH /_sandbox/ims`` (all or nothing); raises :class:`ValueError` naming a bad knob."""
        unknown = sorted(set(body) - set(_KNOBS))
        if unknown:
            raise ValueError(f"unknown IMS knob(s): {', '.join(unknown)}")
        checked = {name: _KNOBS[name](name, value) for name, value in body.items()}
        for name, value in checked.items():
            if name == "fail_next":
                self.fail_next = value
            else:
                setattr(self.config, name, value)


def _text(name: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string")
    return value


def _lifetime(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 10 * 86400:
        raise ValueError(f"{name} must be a number of seconds above 0 and at most 864000")
    return float(value)


def _scopes(name: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(scope, str) and scope for scope in value):
        raise ValueError(f"{name} must be a list of scope names")
    return tuple(value)


def _secret_status(name: str, value: object) -> int:
    if value not in (400, 401) or isinstance(value, bool):
        raise ValueError(f"{name} must be 400 or 401")
    return int(value)


def _failures(name: str, value: object) -> list[int]:
    if not isinstance(value, list) or not all(_is_error_status(status) for status in value):
        raise ValueError(f"{name} must be a list of HTTP error statuses (400-599)")
    return list(value)


_KNOBS: dict[str, Callable[[str, object], Any]] = {
    "client_id": _text,
    "client_secret": _text,
    "expires_in": _lifetime,
    "allowed_scopes": _scopes,
    "wrong_secret_status": _secret_status,
    "fail_next": _failures,
}
_ERRORS = {400: "invalid_request", 401: "invalid_client", 403: "access_denied", 429: "too_many_requests"}


def _is_error_status(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 400 <= value <= 599


def split_scopes(scope: str) -> list[str]:
    """Scopes as IMS reads them: separated by commas (Adobe's documented form) or spaces (OAuth's)."""
    return scope.replace(",", " ").split()


def install(app: Starlette, config: ImsConfig | None = None, *, schedule: Schedule | None = None) -> ImsStandIn:
    """Give ``app`` an IMS stand-in with these knobs (replacing any earlier one)."""
    stand_in = ImsStandIn(config, schedule=schedule)
    app.state.ims = stand_in
    return stand_in


def stand_in_of(app: Starlette) -> ImsStandIn:
    """The app's IMS stand-in, made with the default knobs on first use."""
    found = getattr(app.state, "ims", None)
    if not isinstance(found, ImsStandIn):
        found = install(app)
    return found


async def _params(request: Request) -> dict[str, str]:
    params = dict(request.query_params)
    body = await request.body()
    if body:
        if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
            raise ImsProblem(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
        try:
            params.update(parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=True))
        except (UnicodeDecodeError, ValueError):
            raise ImsProblem(400, "invalid_request", "malformed form body") from None
    return params


async def token(request: Request) -> Response:
    sandbox = sandbox_of(request)
    try:
        answer = stand_in_of(request.app).token(sandbox, await _params(request))
    except ImsProblem as problem:
        sandbox.record_call(ENDPOINT, problem.status)
        return problem.response()
    sandbox.record_call(ENDPOINT, 200)
    return JSONResponse(answer, headers={"cache-control": "no-store"})


def _revoking_client(request: Request, params: dict[str, str]) -> tuple[str, str | None]:
    """``(client_id, secret)``: from HTTP Basic (confidential clients), else the ``client_id`` parameter."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return params.get("client_id", ""), params.get("client_secret")
    try:
        client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise ImsProblem(400, "invalid_client", "malformed Basic credentials") from None
    return client_id, secret


async def authorize(request: Request) -> Response:
    sandbox = sandbox_of(request)
    schedule = stand_in_of(request.app).schedule or sandbox.call_later
    try:
        target = oauth.authorize(sandbox.store, sandbox.config, dict(request.query_params), schedule)
    except ImsProblem as problem:
        sandbox.record_call("ims_authorize", problem.status)
        return problem.response()
    sandbox.record_call("ims_authorize", 302)
    return RedirectResponse(target, status_code=302)


async def revoke(request: Request) -> Response:
    sandbox = sandbox_of(request)
    wrong_status = stand_in_of(request.app).config.wrong_secret_status
    try:
        params = await _params(request)
        client_id, secret = _revoking_client(request, params)
        oauth.authenticate_client(sandbox.config, client_id, secret, wrong_status)
        if not params.get("token"):
            raise ImsProblem(400, "invalid_request", "missing token parameter")
        oauth.revoke(sandbox.store, client_id, params["token"])
    except ImsProblem as problem:
        sandbox.record_call("ims_revoke", problem.status)
        return problem.response()
    sandbox.record_call("ims_revoke", 200)
    return Response(status_code=200)


async def show(request: Request) -> Response:
    return JSONResponse(stand_in_of(request.app).view())


async def patch(request: Request) -> Response:
    stand_in = stand_in_of(request.app)
    try:
        body = json.loads(await request.body() or b"{}")
        if not isinstance(body, dict):
            raise ValueError("body must be a JSON object of IMS knobs")
        stand_in.update(body)
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        detail = "malformed JSON body" if isinstance(exc, json.JSONDecodeError) else str(exc)
        return JSONResponse({"errors": [{"title": "Invalid value", "detail": detail}]}, status_code=422)
    return JSONResponse(stand_in.view())


ROUTES = [
    Route(TOKEN_PATH, token, methods=["POST"]),
    Route(oauth.AUTHORIZE_PATH, authorize, methods=["GET"]),
    Route(oauth.REVOKE_PATH, revoke, methods=["POST"]),
    Route("/_sandbox/ims", show, methods=["GET"]),
    Route("/_sandbox/ims", patch, methods=["PATCH"]),
]
