"""The v0 signature: HMAC-SHA256 over v0:{timestamp}:{raw body}, every secret, a 300 s window."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from service.signature import SignatureError, sign, verify

BODY = b'{"type":"file.ready","resource":{"id":"f1","type":"file"}}'
NOW = 1_700_000_000.0


def documented_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Written from Frame.io's webhook guide, independently of service.signature."""
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return "v0=" + digest


def test_sign_matches_the_documented_scheme() -> None:
    assert sign("s3cret", "1700000000", BODY) == documented_signature("s3cret", "1700000000", BODY)


def test_a_good_signature_verifies() -> None:
    verify(["s3cret"], "1700000000", documented_signature("s3cret", "1700000000", BODY), BODY, NOW)


def test_the_second_secret_verifies_during_a_rotation() -> None:
    signature = documented_signature("old", "1700000000", BODY)
    verify(["new", "old"], "1700000000", signature, BODY, NOW)


@pytest.mark.parametrize(
    ("secrets", "timestamp", "signature", "body", "message"),
    [
        (["other"], "1700000000", documented_signature("s3cret", "1700000000", BODY), BODY, "does not match"),
        (["s3cret"], "1700000000", documented_signature("s3cret", "1700000000", BODY), BODY + b" ", "does not match"),
        (["s3cret"], "1699999699", documented_signature("s3cret", "1699999699", BODY), BODY, "outside"),
        (["s3cret"], "1700000301", documented_signature("s3cret", "1700000301", BODY), BODY, "outside"),
        (["s3cret"], None, documented_signature("s3cret", "1700000000", BODY), BODY, "missing X-Frameio-Request"),
        (["s3cret"], "1700000000", None, BODY, "missing X-Frameio-Signature"),
        (["s3cret"], "1700000000", "", BODY, "missing X-Frameio-Signature"),
        (["s3cret"], "17e8", documented_signature("s3cret", "17e8", BODY), BODY, "malformed"),
        (["s3cret"], "1700000000", "v1=" + "0" * 64, BODY, "unsupported"),
        ([], "1700000000", documented_signature("s3cret", "1700000000", BODY), BODY, "does not match"),
    ],
    ids=[
        "wrong-secret",
        "tampered-body",
        "stale",
        "future",
        "no-timestamp",
        "no-signature",
        "empty-signature",
        "malformed-timestamp",
        "other-scheme",
        "no-secrets",
    ],
)
def test_a_bad_delivery_is_refused_with_its_reason(
    secrets: list[str], timestamp: str | None, signature: str | None, body: bytes, message: str
) -> None:
    with pytest.raises(SignatureError, match=message):
        verify(secrets, timestamp, signature, body, NOW)


def test_the_window_edges_are_inclusive() -> None:
    for timestamp in ("1699999700", "1700000300"):
        verify(["k"], timestamp, documented_signature("k", timestamp, BODY), BODY, NOW)


def test_a_refusal_never_names_the_secret() -> None:
    with pytest.raises(SignatureError) as caught:
        verify(["top-secret-value"], "1700000000", "v0=" + "0" * 64, BODY, NOW)
    assert "top-secret-value" not in str(caught.value)
