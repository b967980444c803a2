"""A user's Adobe IMS sign-in (``authorization_code`` + ``refresh_token``), shared by all workers.

``autostack login`` signs a user in (:mod:`.oauth`) and writes the sign-in with :func:`store_sign_in`
into one Redis hash (no TTL: the refresh token must outlive any access token), at
``autostack:ims:user:<digest of IMS URL and client id>``:

- ``token``, ``refresh_at``, ``expires_at``: the access token every worker sends, as for
  server-to-server (:class:`~workers.frameio.auth.SharedToken`: refreshed ``refresh_margin_s``
  before expiry, at most half its lifetime, under the Redis lock, by one worker at a time);
- ``refresh_token``: what the next refresh sends. IMS may answer a refresh with a new refresh
  token and retire the old one (rotation), so losing the answer would sign the service out. The
  new access token and the new refresh token are written by one script, and only if the hash still
  holds the refresh token that was sent (a ``login`` meanwhile wins);
- ``identity``, ``user_id``, ``signed_in_at`` (from ``/v4/me`` at login; no secret);
- ``refused``: IMS refused the refresh token (``invalid_grant``: revoked, expired, or rotated
  away). Every worker then raises :class:`SignInRequired` without asking IMS again, and status,
  ``/readyz`` and the metrics say ``rejected`` until ``autostack login`` is run again.

``invalidate(token)`` (a 401) drops only the access token, never the refresh token. No hash, or
one without a refresh token: :class:`SignInRequired` (``logged_out``).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

import httpx
import redis
from pydantic import SecretStr

from workers.frameio.auth import ENDPOINT, ImsRejected, SharedToken, Sharing, Token, read_fields, stored_token
from workers.frameio.errors import PermanentError

log = logging.getLogger("autostack.auth")

USER_KEY_PREFIX = "autostack:ims:user:"

# Write the refreshed access token and the (maybe rotated) refresh token together, and only when
# the hash still holds the refresh token that was sent.
_STORE_REFRESHED = """
if redis.call('HGET', KEYS[1], 'refresh_token') ~= ARGV[1] then
    return 0
end
redis.call('HSET', KEYS[1], 'token', ARGV[2], 'refresh_at', ARGV[3], 'expires_at', ARGV[4], 'refresh_token', ARGV[5])
redis.call('HDEL', KEYS[1], 'refused', 'refused_at')
redis.call('DEL', KEYS[2])
return 1
"""

# IMS refused the refresh token ARGV[1]: mark the sign-in refused if it still holds that token.
_REFUSE = """
if redis.call('HGET', KEYS[1], 'refresh_token') ~= ARGV[1] then
    return 0
end
redis.call('HSET', KEYS[1], 'refused', ARGV[2], 'refused_at', ARGV[3])
redis.call('HDEL', KEYS[1], 'token')
return 1
"""

_DROP_ACCESS = """
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then
    return redis.call('HDEL', KEYS[1], 'token')
end
return 0
"""


def user_key(ims_url: str, client_id: str) -> str:
    """The Redis hash of the sign-in made with ``client_id`` at ``ims_url``."""
    digest = hashlib.sha256(f"{ims_url.rstrip('/')}\n{client_id}".encode()).hexdigest()[:16]
    return USER_KEY_PREFIX + digest


class SignInRequired(PermanentError):
    """No usable user sign-in: never signed in, logged out, or IMS refused the refresh token.
    ``reason`` is ``logged_out`` or ``refused``; the message says to run ``autostack login``."""

    def __init__(self, reason: str, error: str = "") -> None:
        what = "not signed in" if reason == "logged_out" else "Adobe IMS refused the refresh token"
        detail = what + (f" ({error})" if error else "") + ": run `autostack login` again"
        super().__init__(ENDPOINT, None, detail)
        self.reason = reason
        self.error = error


@dataclass(frozen=True)
class SignIn:
    """What ``autostack login`` stores: the tokens and who they act as."""

    token: Token
    identity: str
    user_id: str
    signed_in_at: float


def store_sign_in(client: redis.Redis, key: str, sign_in: SignIn) -> None:
    """Replace whatever sign-in ``key`` held with this one (one transaction)."""
    token = sign_in.token
    if token.refresh_token is None:
        raise ValueError("a sign-in without a refresh token cannot be shared")
    items: list[Any] = ["token", token.value, "refresh_at", repr(token.refresh_at)]
    items += ["expires_at", repr(token.expires_at), "refresh_token", token.refresh_token]
    items += ["identity", sign_in.identity, "user_id", sign_in.user_id, "signed_in_at", repr(sign_in.signed_in_at)]
    pipe = client.pipeline(transaction=True)
    pipe.delete(key, key + ":failed")
    pipe.hset(key, items=items)
    pipe.execute()


class UserToken(SharedToken):
    """The access token of the user sign-in in Redis, refreshed with its refresh token."""

    def __init__(
        self,
        client: redis.Redis,
        http: httpx.Client,
        ims_url: str,
        client_id: str,
        client_secret: SecretStr | None,
        **sharing: Any,
    ) -> None:
        if not client_id:
            raise ValueError("the IMS client id must not be empty")
        self._client_id = client_id
        self._secret = client_secret
        super().__init__(client, http, ims_url, user_key(ims_url, client_id), Sharing(**sharing))
        self._store_refreshed = client.register_script(_STORE_REFRESHED)
        self._refuse = client.register_script(_REFUSE)
        self._drop_access = client.register_script(_DROP_ACCESS)

    def __repr__(self) -> str:
        return f"UserToken(ims_url={self._ims_url!r}, client_id={self._client_id!r}, key={self.key!r})"

    def _drop_shared(self, token: str) -> bool:
        return bool(self._drop_access(keys=[self.key], args=[token]))

    def _read(self) -> Token | None:
        fields = read_fields(self._redis, self.key)
        if "refused" in fields:
            raise SignInRequired("refused", fields["refused"])
        if not fields.get("refresh_token"):
            raise SignInRequired("logged_out")
        return stored_token(fields)

    def _fetch(self) -> Token:
        sent = read_fields(self._redis, self.key).get("refresh_token")
        if not sent:
            raise SignInRequired("logged_out")
        form = {"grant_type": "refresh_token", "refresh_token": sent, "client_id": self._client_id}
        if self._secret is not None:
            form["client_secret"] = self._secret.get_secret_value()
        try:
            fresh = self._request_token(form)
        except ImsRejected as exc:
            if exc.error != "invalid_grant":
                raise
            if self._refuse(keys=[self.key], args=[sent, exc.error, repr(self._clock())]):
                log.error("Adobe IMS refused the refresh token (invalid_grant): run `autostack login` again")
            raise SignInRequired("refused", exc.error) from None
        # IMS answers the same refresh token, a new one (rotation), or none (keep the one sent).
        return Token(fresh.value, fresh.refresh_at, fresh.expires_at, fresh.refresh_token or sent, replaces=sent)

    def _store(self, token: Token) -> None:
        sent, fresh = token.replaces or "", token.refresh_token or ""
        args = [sent, token.value, repr(token.refresh_at), repr(token.expires_at), fresh]
        if not self._store_refreshed(keys=[self.key, self.key + ":failed"], args=args):
            log.warning("the sign-in changed while its token was refreshed (a new login?); the new one is kept")
