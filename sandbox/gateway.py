"""What every Frame.io API call goes through, in this order.

1. Authentication: ``Authorization: Bearer <token>``; missing or unknown token -> 401.
2. Account: an ``account_id`` in the path that is not one of the sandbox's accounts -> 404; one
   the token's user is not a member of -> 403 (assumed: Frame.io does not document it).
3. Rate limit: one leaky bucket per (account, endpoint) -> 429 when empty.
4. Latency (``latency_s``, plus the account's own from ``account_latency_s``), then an injected fault
   taken for this endpoint (``phase: before``).
5. The handler; an :class:`~sandbox.errors.ApiProblem` becomes the documented error body.
6. An injected fault with ``phase: after`` replaces, delays or drops the real answer.
Every answer carries the ``x-ratelimit-*`` headers; every call is counted by endpoint and status.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.errors import ApiProblem, error_response
from sandbox.faults import Fault
from sandbox.model import User
from sandbox.ratelimit import Verdict
from sandbox.runtime import Sandbox

DROPPED = "dropped"
RAW_SEND = "sandbox.raw_send"


@dataclass
class Call:
    """What a handler gets besides the request: the sandbox and the caller."""

    sandbox: Sandbox
    user: User
    request: Request

    async def data(self) -> dict[str, Any]:
        """The ``data`` object of a JSON body; 400 when not JSON, 422 when ``data`` is missing."""
        if "application/json" not in self.request.headers.get("content-type", ""):
            raise ApiProblem(400, "Content-Type must be application/json")
        try:
            body = json.loads(await self.request.body())
        except ValueError:
            raise ApiProblem(400, "Malformed JSON body") from None
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            raise ApiProblem(422, "Body must be an object with a data object", "/data")
        data: dict[str, Any] = body["data"]
        return data

    async def optional_data(self) -> dict[str, Any]:
        """Like :meth:`data`, but an empty body or a body without ``data`` means ``{}``."""
        raw = await self.request.body()
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            raise ApiProblem(400, "Malformed JSON body") from None
        if isinstance(body, dict) and body.get("data") is None:
            return {}
        return await self.data()


Handler = Callable[[Call], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def sandbox_of(request: Request) -> Sandbox:
    found: Sandbox = request.app.state.sandbox
    return found


def authenticate(request: Request, sandbox: Sandbox) -> User:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    user = sandbox.store.user_for_token(token.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        raise ApiProblem(401, "Missing or invalid bearer token")
    return user


async def pause(request: Request, sandbox: Sandbox, seconds: float) -> None:
    """Sleep, but stop early when the client hangs up or the sandbox shuts down."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if sandbox.closing.is_set() or await request.is_disconnected():
            return
        await asyncio.sleep(min(left, 0.05))


class Dropped(Response):
    """Returned after the connection was aborted; the server has nobody left to send it to."""


async def drop_connection(request: Request, sandbox: Sandbox, endpoint: str) -> Response:
    """Close the client's connection without an answer (uvicorn: abort the transport)."""
    send = request.scope.get(RAW_SEND)
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise ConnectionAbortedError("the sandbox dropped this connection (fault kind 'drop')")
    sandbox.record_call(endpoint, DROPPED)  # before the client can notice and ask for the counts
    transport.abort()
    await asyncio.sleep(0.01)  # let the server notice the lost connection before we return
    return Dropped(status_code=599)


async def _fault_answer(
    request: Request, sandbox: Sandbox, endpoint: str, fault: Fault, real: Response | None
) -> Response:
    if fault.kind == "drop":
        return await drop_connection(request, sandbox, endpoint)
    if fault.kind == "status":
        return error_response(fault.status, f"Injected fault: {fault.status}")
    await pause(request, sandbox, fault.delay_s)
    if real is not None:
        return real
    return error_response(504, "Injected fault: gateway timeout")


class RateLimited(ApiProblem):
    def __init__(self, endpoint: str, verdict: Verdict) -> None:
        super().__init__(429, f"Rate limit exceeded for {endpoint}; slow down")
        self.verdict = verdict


def _rate_check(sandbox: Sandbox, endpoint: str, user: User, account: str | None) -> Verdict | None:
    config = sandbox.config
    scope = account or sandbox.store.account_id
    if config.rate_limit_scope == "account_user":
        scope = f"{scope}:{user.id}"
    verdict = sandbox.limiter.check(scope, endpoint, config.rate_window_scale, enforce=config.rate_limits)
    if verdict is not None and not verdict.allowed:
        raise RateLimited(endpoint, verdict)
    return verdict


def _admit(request: Request, sandbox: Sandbox, endpoint: str, public: bool) -> tuple[User, Verdict | None]:
    if public:  # pre-signed upload URLs: no bearer token, no documented rate limit
        return sandbox.store.users[sandbox.store.uploader_user_id], None
    user = authenticate(request, sandbox)
    account = request.path_params.get("account_id")
    if account is not None and not sandbox.store.has_account(account):
        raise ApiProblem(404, f"Account {account} not found")
    if account is not None and not sandbox.store.is_member(user.id, account):
        # An assumption (docs/frameio.md §10): Frame.io's answer to a user outside the account.
        raise ApiProblem(403, "You do not have access to this account")
    return user, _rate_check(sandbox, endpoint, user, account)


async def _handle(handler: Handler, call: Call) -> Response:
    try:
        return await handler(call)
    except ApiProblem as problem:
        return error_response(problem.status, problem.detail, problem.pointer)


async def _run(
    request: Request, sandbox: Sandbox, endpoint: str, handler: Handler, public: bool
) -> tuple[Response, Verdict | None]:
    await request.body()  # read (and cache) the body first: pause() listens for a disconnect
    try:
        user, verdict = _admit(request, sandbox, endpoint, public)
    except ApiProblem as problem:
        limited = problem.verdict if isinstance(problem, RateLimited) else None
        return error_response(problem.status, problem.detail, problem.pointer), limited
    latency = sandbox.config.latency_s + sandbox.config.latency_of(request.path_params.get("account_id"))
    if latency > 0:
        await pause(request, sandbox, latency)
    fault = sandbox.faults.take(endpoint)
    if fault is not None and fault.kind == "slow":
        await pause(request, sandbox, fault.delay_s)
        fault = None
    if fault is not None and fault.phase == "before":
        return await _fault_answer(request, sandbox, endpoint, fault, None), verdict
    response = await _handle(handler, Call(sandbox, user, request))
    if fault is not None:  # phase "after": the work is done, the answer is lost, late or wrong
        response = await _fault_answer(request, sandbox, endpoint, fault, response)
    return response, verdict


def api(endpoint: str, handler: Handler, *, public: bool = False) -> Endpoint:
    """Wrap ``handler`` as the Frame.io endpoint named ``endpoint``."""

    async def run(request: Request) -> Response:
        sandbox = sandbox_of(request)
        try:
            response, verdict = await _run(request, sandbox, endpoint, handler, public)
        except ConnectionAbortedError:
            sandbox.record_call(endpoint, DROPPED)
            raise
        if isinstance(response, Dropped):
            return response  # already counted; nobody is listening any more
        if verdict is not None:
            response.headers.update(verdict.headers())
            if response.status_code == 429 and sandbox.config.retry_after_on_429:
                response.headers["retry-after"] = str(max(1, math.ceil(verdict.retry_after_s)))
        sandbox.record_call(endpoint, response.status_code)
        return response

    run.__name__ = endpoint
    return run


def ok(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse({"data": data}, status_code=status)
