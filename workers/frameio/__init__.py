"""The Frame.io V4 client and everything about talking to Frame.io.

Owns the client (:mod:`.client`, on an injected httpx transport), sign-in (:mod:`.auth`), the
shared rate limiter (:mod:`.ratelimit`, applied by :mod:`.limiting`), the retry policy
(:mod:`.retry`), the exception hierarchy (:mod:`.errors`) and the asset models (:mod:`.models`).
The facts it rests on are in ``docs/frameio.md``.

May import: httpx, redis, pydantic, and nothing from autostack outside this package. Pure
modules: :mod:`.errors`, :mod:`.models`, :mod:`.retry` (no httpx, redis or rq).
"""
