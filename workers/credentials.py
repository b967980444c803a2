"""Which credential autostack signs in with and what state it is in, for ``autostack status``,
``/readyz`` and the metrics, read from the settings and Redis without calling Frame.io or IMS.

States: ``ok``; ``expiring`` (a static token within ``AUTOSTACK_TOKEN_EXPIRING_S`` of its expiry);
``expired``; ``rejected`` (Frame.io answered 401 to the static token, IMS refused the
server-to-server credentials, or IMS refused the user's refresh token); ``logged_out`` (user
sign-in: nobody has run ``autostack login``, or ``logout`` was run; or nothing is configured).
Tokens that autostack refreshes itself (server-to-server, user) are never ``expiring``: their
refresh is due before they expire.

Each account of ``FRAMEIO_ACCOUNTS_FILE`` has a credential of its own, in the same states
(:func:`inspect_accounts`); with such a file the default credential may be unset (:func:`inspect`
then answers None: accounts without a row are declined, nothing is waiting on a sign-in).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import redis

from workers.frameio.auth import read_fields, s2s_key
from workers.frameio.credential import STATES, State, classify, static_rejected_at, token_expiry
from workers.frameio.usertoken import user_key
from workers.metrics import series
from workers.settings import AccountCredential, ConfigError, Settings


@dataclass(frozen=True)
class Credential:
    mode: str  # static, server_to_server, user, or none
    state: State
    expires_at: float | None = None
    identity: str | None = None
    action: str = ""  # what the operator should do, when anything

    def view(self, now: float) -> dict[str, object]:
        """The JSON ``/readyz`` shows."""
        expires_in = None if self.expires_at is None else round(self.expires_at - now, 1)
        return {"auth": self.mode, "state": self.state, "expires_in_s": expires_in, "identity": self.identity}


def inspect(settings: Settings, client: redis.Redis, now: float | None = None) -> Credential:
    """The default credential's state now; raises redis errors for the caller to handle."""
    now = time.time() if now is None else now
    try:
        mode = settings.auth_mode()
    except ConfigError as exc:
        return Credential("none", "logged_out", action=str(exc))
    if mode == "static":
        assert settings.frameio_token is not None  # auth_mode said static
        fix = "set a new FRAMEIO_TOKEN (or sign in with FRAMEIO_AUTH=user and `autostack login`)"
        return _static(settings, settings.frameio_token.get_secret_value(), fix, client, now)
    if mode == "user":
        return _user(settings, client)
    assert settings.frameio_client_id is not None  # the settings' validator checked it
    fix = "check FRAMEIO_CLIENT_ID, FRAMEIO_CLIENT_SECRET and FRAMEIO_IMS_SCOPES"
    return _server_to_server(settings, settings.frameio_client_id, fix, client)


def inspect_default(settings: Settings, client: redis.Redis, now: float) -> Credential | None:
    """:func:`inspect`, or None when the default credential is unset beside an accounts file (no
    account waits on it: accounts without a row are declined)."""
    if settings.default_auth() is None and settings.frameio_accounts:
        return None
    return inspect(settings, client, now)


def inspect_accounts(settings: Settings, client: redis.Redis, now: float | None = None) -> dict[str, Credential]:
    """The state of each account's own credential (``FRAMEIO_ACCOUNTS_FILE``), by account id."""
    now = time.time() if now is None else now
    return {account: _row(settings, account, row, client, now) for account, row in settings.frameio_accounts.items()}


def inspect_all(settings: Settings, client: redis.Redis, now: float) -> tuple[Credential | None, dict[str, Credential]]:
    """The default credential (None when unset beside an accounts file) and each account's own."""
    return inspect_default(settings, client, now), inspect_accounts(settings, client, now)


def _row(settings: Settings, account: str, row: AccountCredential, client: redis.Redis, now: float) -> Credential:
    if row.token is not None:
        fix = f"set a new token in account {account}'s row of FRAMEIO_ACCOUNTS_FILE"
        return _static(settings, row.token.get_secret_value(), fix, client, now)
    assert row.client_id is not None  # the file's reader checked it
    fix = f"check client_id and client_secret in account {account}'s row of FRAMEIO_ACCOUNTS_FILE"
    return _server_to_server(settings, row.client_id, fix, client)


def _static(settings: Settings, token: str, fix: str, client: redis.Redis, now: float) -> Credential:
    expires_at = token_expiry(token)
    if static_rejected_at(client, token) is not None:
        return Credential("static", "rejected", expires_at, action=fix)
    state = classify(expires_at, now, settings.autostack_token_expiring_s)
    return Credential("static", state, expires_at, action="" if state == "ok" else fix)


def _user(settings: Settings, client: redis.Redis) -> Credential:
    assert settings.frameio_client_id is not None  # the settings' validator checked it
    fields = read_fields(client, user_key(settings.frameio_ims_url, settings.frameio_client_id))
    identity = fields.get("identity")
    if not fields.get("refresh_token"):
        return Credential("user", "logged_out", action="run `autostack login`")
    if "refused" in fields:
        return Credential("user", "rejected", identity=identity, action="run `autostack login` again")
    return Credential("user", "ok", _float(fields.get("expires_at")), identity)


def _server_to_server(settings: Settings, client_id: str, fix: str, client: redis.Redis) -> Credential:
    key = s2s_key(settings.frameio_ims_url, client_id, settings.frameio_ims_scopes)
    failed = client.get(key + ":failed")
    if failed is not None and _failure_kind(failed) == "rejected":
        return Credential("server_to_server", "rejected", action=fix)
    expires_at = _float(read_fields(client, key).get("expires_at"))
    return Credential("server_to_server", "ok", expires_at)


def _failure_kind(raw: object) -> str:
    try:
        record = json.loads(raw.decode() if isinstance(raw, bytes) else str(raw))
        return str(record["kind"])
    except (ValueError, KeyError, TypeError):
        return ""


def _float(value: str | None) -> float | None:
    try:
        return None if value is None else float(value)
    except ValueError:
        return None


def gauges(
    credential: Credential | None, now: float, accounts: Mapping[str, Credential] | None = None
) -> dict[str, float]:
    """``autostack_frameio_token_state`` (1 for the current state, 0 for the others) and, when
    the expiry is known, ``autostack_frameio_token_expires_in_seconds``: the default credential's
    without labels (none when it is unset), each account's own with its ``account``."""
    values: dict[str, float] = {}
    for account, found in [("", credential), *(accounts or {}).items()]:
        if found is None:
            continue
        labels = {"account": account} if account else {}
        for state in STATES:
            values[series("autostack_frameio_token_state", state=state, **labels)] = float(state == found.state)
        if found.expires_at is not None:
            expiry = series("autostack_frameio_token_expires_in_seconds", **labels)
            values[expiry] = round(found.expires_at - now, 3)
    return values


def all_ok(credential: Credential | None, accounts: Mapping[str, Credential]) -> bool:
    """Whether the default credential (when set) and every account's are ``ok``."""
    return all(found.state == "ok" for found in [*([credential] if credential else []), *accounts.values()])


def describe(credential: Credential, now: float, account: str | None = None) -> str:
    """One line for ``autostack status``: the default credential's, or ``account``'s own."""
    who = {"static": "a static token", "server_to_server": "server-to-server", "user": "a user sign-in"}
    whose = "Frame.io sign-in" if account is None else f"account {account}"
    line = f"{whose}: {who.get(credential.mode, 'nothing configured')}"
    if credential.identity:
        line += f", acting as {credential.identity}"
    line += "; " + (credential.state if credential.state == "ok" else credential.state.upper())
    line += _expiry(credential, now)
    return line + (f" ({credential.action})" if credential.action else "")


def _expiry(credential: Credential, now: float) -> str:
    if credential.expires_at is None:
        if credential.mode == "static":
            return "; expiry unknown (an opaque token)"
        return "; no access token fetched yet" if credential.state == "ok" else ""
    when = datetime.fromtimestamp(credential.expires_at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    left = credential.expires_at - now
    if left <= 0:
        again = "" if credential.mode == "static" else ", a new one is fetched on the next call"
        return f"; access token expired {when} ({span(-left)} ago{again})"
    renewed = "" if credential.mode == "static" else ", renewed automatically"
    return f"; access token expires {when} (in {span(left)}{renewed})"


def span(seconds: float) -> str:
    """``42 s``, ``12 min``, ``3.5 h``, ``2.0 days``."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
