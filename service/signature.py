"""Frame.io's v0 webhook signature: HMAC-SHA256 over ``v0:{timestamp}:{raw body}``, hex, ``v0=``.

Pure: the clock is passed in. Every configured secret is tried (rotation), with a constant-time
compare; a timestamp further than the tolerance from now, in either direction, is refused.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

SCHEME = "v0"


class SignatureError(Exception):
    """Why a delivery is not trusted; the text is safe to log (it never holds a secret).

    ``code`` says which check failed, for control flow and metrics: ``stale`` (the timestamp is
    outside the window), ``bad_timestamp`` (missing, malformed or sent twice) or ``bad_signature``."""

    def __init__(self, message: str, code: str = "bad_signature") -> None:
        super().__init__(message)
        self.code = code


def sign(secret: str, timestamp: str, body: bytes) -> str:
    message = f"{SCHEME}:{timestamp}:".encode() + body
    return f"{SCHEME}=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def check_timestamp(timestamp: str | None, now: float, tolerance_s: int) -> None:
    if not timestamp:
        raise SignatureError("missing X-Frameio-Request-Timestamp", "bad_timestamp")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise SignatureError("malformed X-Frameio-Request-Timestamp", "bad_timestamp")
    if abs(now - int(timestamp)) > tolerance_s:
        raise SignatureError("timestamp outside the allowed window (stale or in the future)", "stale")


def verify(
    secrets: Sequence[str],
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: float,
    tolerance_s: int = 300,
) -> None:
    """Return when ``signature`` is a valid v0 signature of ``body`` by one of ``secrets``."""
    check_timestamp(timestamp, now, tolerance_s)
    assert timestamp is not None  # checked above
    if not signature:
        raise SignatureError("missing X-Frameio-Signature")
    if not signature.startswith(f"{SCHEME}="):
        raise SignatureError("unsupported signature scheme")
    presented = signature.encode("ascii", "replace")
    matched = False
    for secret in secrets:
        # Compare against every secret, so the time taken does not tell which one matched.
        matched |= hmac.compare_digest(sign(secret, timestamp, body).encode(), presented)
    if not matched:
        raise SignatureError("signature does not match")
