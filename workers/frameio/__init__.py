"""The Frame.io V4 client and everything about talking to Frame.io.

Owns the client (:mod:`.client`, on an injected httpx transport), sign-in (:mod:`.auth` for a
static token and server-to-server, :mod:`.usertoken` and :mod:`.oauth` for a user's sign-in,
:mod:`.credential` for reading a token's expiry), the shared rate limiter (:mod:`.ratelimit`,
applied by :mod:`.limiting`), the retry policy (:mod:`.retry`), the exception hierarchy
(:mod:`.errors`), the asset models (:mod:`.models`) and the learned answers to Frame.io's
undocumented questions (:mod:`.platform`). The facts it rests on are in ``docs/frameio.md``.

May import: httpx, redis, pydantic, and nothing from autostack outside this package. Pure
modules: :mod:`.errors`, :mod:`.models`, :mod:`.retry`, :mod:`.platform` (no httpx, redis or rq).
"""
