"""How Frame.io signs a webhook delivery (``docs/frameio.md`` §6.4).

``X-Frameio-Request-Timestamp`` is the epoch second of the attempt; ``X-Frameio-Signature`` is
``v0=`` + hex HMAC-SHA256 keyed with the webhook's secret over ``v0:{timestamp}:{raw body}``.
"""

from __future__ import annotations

import hashlib
import hmac

USER_AGENT = "Frame.io V4 API"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    message = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_headers(secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "X-Frameio-Request-Timestamp": str(timestamp),
        "X-Frameio-Signature": sign(secret, timestamp, body),
        "User-Agent": USER_AGENT,
    }
