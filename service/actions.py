"""``POST /actions/frameio``: Frame.io's Custom Actions. Verify, parse, answer once per step.

The same front door as the webhooks (:mod:`service.webhooks`): the body is capped, the ``v0``
signature is checked against every secret in ``FRAMEIO_ACTION_SECRETS`` (rotation), and a stale
timestamp is refused: 401 and nothing done. A valid call is answered 200 with what the person
sees: a message (``title``, ``description``) or a form (with ``fields``). An action that is not
autostack's, an expired or foreign interaction, or a resource the action does not work on get a
message saying so; Redis being down gets one too (never a 500). Each step of an interaction is
done once (:mod:`service.interactions`); work that needs Frame.io is queued (:mod:`service.action_menu`).
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from dataclasses import dataclass, field

import redis
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from service.action_calls import ActionCall, MalformedAction, parse_action_call
from service.action_menu import BY_EVENT, Answer, MenuContext, message
from service.interactions import Interactions
from service.webhooks import Refused, verified_body
from workers.logs import bind

log = logging.getLogger("autostack.actions")

EXPIRED = message(
    "This action has expired", "autostack no longer knows this interaction. Close this and run the action again."
)
FOREIGN = message(
    "This is not your action", "This interaction belongs to another action, item or person. Run the action again."
)
BUSY = message("Still working", "autostack is still working on this. Close this; Why? shows the result.")
UNAVAILABLE = message("autostack is unavailable", "autostack cannot answer right now. Try again in a minute.")


@dataclass(frozen=True)
class ActionContext:
    menu: MenuContext
    outcomes: Counter[str] = field(default_factory=Counter)

    @property
    def secrets(self) -> list[str]:
        return [secret.get_secret_value() for secret in self.menu.settings.frameio_action_secrets]


async def receive_action(request: Request) -> JSONResponse:
    context: ActionContext = request.app.state.actions
    bind(request_id=uuid.uuid4().hex[:16])
    response, outcome = await _receive(request, context)
    context.outcomes[outcome] += 1
    log.info("action answered %s (%s)", response.status_code, outcome)
    return response


async def _receive(request: Request, context: ActionContext) -> tuple[JSONResponse, str]:
    try:
        body = await verified_body(request, context.secrets, context.menu.settings)
    except Refused as refused:
        return refused.answer()
    try:
        call = parse_action_call(body)
    except MalformedAction as exc:
        return Refused(400, "malformed", str(exc), "malformed").answer()
    answer, outcome = await run_in_threadpool(_answer, context, call)
    return JSONResponse(answer), outcome


def _answer(context: ActionContext, call: ActionCall) -> tuple[Answer, str]:
    spec = BY_EVENT.get(call.type)
    if spec is None:
        return message("Not an autostack action", "autostack does not offer this action."), "not_ours"
    if call.resource_type not in spec.resources:
        kinds = " or ".join(kind.replace("_", " ") for kind in spec.resources)
        return message(spec.name, f"{spec.name} works on a {kinds}."), "wrong_resource"
    interactions = Interactions(context.menu.redis, context.menu.settings.autostack_action_ttl_s)
    try:
        standing = interactions.standing(call)
        if standing == "expired":
            return EXPIRED, "expired"
        if standing == "foreign":
            return FOREIGN, "foreign"
        wait_s = context.menu.settings.autostack_action_wait_s
        return interactions.once(call, lambda: spec.answer(context.menu, call), wait_s, BUSY), "answered"
    except redis.RedisError as exc:
        log.warning("action unanswerable: Redis %s", type(exc).__name__)
        return UNAVAILABLE, "unavailable"
