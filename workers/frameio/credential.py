"""What can be told about a credential without asking Frame.io: when a token expires, and whether
Frame.io has refused the static one.

Adobe IMS access tokens are JWTs whose payload carries ``created_at`` and ``expires_in`` (both in
milliseconds); other JWTs carry ``exp`` (seconds since the epoch). The payload is decoded without
verifying the signature: the answer only tells the operator, it never decides whether to send the
token. An opaque token (not a JWT) has an unknown expiry, and says so (None).

A static token that Frame.io answered 401 is noted in Redis under :data:`STATIC_REJECTED_KEY` plus
its fingerprint (a hash prefix, never the token), so a new ``FRAMEIO_TOKEN`` is not reported as
rejected, and each account's token of ``FRAMEIO_ACCOUNTS_FILE`` has its own note. The fingerprint
is no secret: it cannot be turned back into the token. A note is kept :data:`REJECTION_TTL_S`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any, Literal

import redis

STATIC_REJECTED_KEY = "autostack:frameio:static:rejected"
REJECTION_TTL_S = 365 * 86400  # like everything autostack keeps; a token still refused is noted again
STATES = ("ok", "expiring", "expired", "rejected", "logged_out")
State = Literal["ok", "expiring", "expired", "rejected", "logged_out"]


def fingerprint(token: str) -> str:
    """A short one-way name for ``token`` (to match a record to the token configured now)."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def token_expiry(token: str) -> float | None:
    """When ``token`` expires (epoch seconds), read from its JWT payload; None for an opaque token
    or a JWT that says nothing usable about its expiry."""
    claims = _jwt_claims(token)
    if claims is None:
        return None
    created, lifetime = _number(claims.get("created_at")), _number(claims.get("expires_in"))
    if created is not None and lifetime is not None:
        return (created + lifetime) / 1000.0  # IMS: both in milliseconds
    return _number(claims.get("exp"))


def _jwt_claims(token: str) -> dict[str, Any] | None:
    parts = token.split(".")
    if len(parts) != 3:  # header.payload.signature
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        return None
    return claims if isinstance(claims, dict) else None


def _number(value: object) -> float | None:
    """A claim's number: IMS writes ``created_at`` and ``expires_in`` as strings of digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def classify(expires_at: float | None, now: float, expiring_s: float) -> State:
    """ok, expiring (within ``expiring_s``) or expired; an unknown expiry is ok."""
    if expires_at is None:
        return "ok"
    if expires_at <= now:
        return "expired"
    return "expiring" if expires_at - now <= expiring_s else "ok"


def rejection_key(token: str) -> str:
    """Where a refusal of the static ``token`` is noted."""
    return f"{STATIC_REJECTED_KEY}:{fingerprint(token)}"


def record_static_rejection(client: redis.Redis, token: str, now: float) -> None:
    """Frame.io answered 401 to the static ``token``: note it (by fingerprint) for status."""
    client.set(rejection_key(token), repr(now), ex=REJECTION_TTL_S)


def static_rejected_at(client: redis.Redis, token: str) -> float | None:
    """When Frame.io refused ``token``, if it has; a note about another token does not count.
    Also reads the one note earlier releases kept (a JSON record under the bare key)."""
    raw, legacy = client.mget([rejection_key(token), STATIC_REJECTED_KEY])
    try:
        if raw is not None:
            return float(raw)
        if legacy is not None:
            record = json.loads(legacy)
            return float(record["at"]) if record["fingerprint"] == fingerprint(token) else None
    except (ValueError, KeyError, TypeError):
        return None
    return None
