"""One Custom Action interaction in Redis: who it belongs to, and the answer given at each step.

Frame.io retries a click it got no answer to (up to 5 times), and posts a form's submission under
the click's ``interaction_id``. So the first click records the interaction's owner (the action,
the resource and the user); a submission with no owner on record is expired (or was never ours),
one with another owner is foreign. Each step (the click, each distinct submission) is done once:
the first request claims it, computes the answer and stores it; a repeat gets the stored answer,
or, while the first is still at work, waits for it a little.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

import redis

from service.action_calls import ActionCall

KEY = "autostack:interaction:{interaction_id}"
POLL_S = 0.05

Answer = dict[str, Any]


def _owner(call: ActionCall) -> str:
    return json.dumps([call.account_id, call.type, call.resource_type, call.resource_id, call.user_id])


def _step(call: ActionCall) -> str:
    if call.data is None:
        return "click"
    return "form:" + hashlib.sha256(json.dumps(call.data).encode()).hexdigest()[:16]


class Interactions:
    def __init__(self, client: redis.Redis, ttl_s: int) -> None:
        self.client = client
        self.ttl_s = ttl_s

    def standing(self, call: ActionCall) -> str:
        """``ours`` (go on), ``expired`` (a submission whose click is not on record) or
        ``foreign`` (the interaction belongs to another action, resource or user)."""
        key = KEY.format(interaction_id=call.interaction_id)
        owner = _owner(call)
        if call.data is None:
            pipe = self.client.pipeline()
            pipe.hsetnx(key, "owner", owner)
            pipe.hget(key, "owner")
            pipe.expire(key, self.ttl_s)
            _, stored, _ = pipe.execute()
        else:
            stored = self.client.hget(key, "owner")
        if stored is None:
            return "expired"
        return "ours" if stored.decode() == owner else "foreign"

    def once(self, call: ActionCall, compute: Callable[[], Answer], wait_s: float, busy: Answer) -> Answer:
        """The step's answer: computed by the first request only; ``busy`` when a repeat arrives
        while the first is still computing and has not finished within ``wait_s``."""
        key = KEY.format(interaction_id=call.interaction_id)
        step = _step(call)
        if self.client.hsetnx(key, f"claim:{step}", "1"):
            self.client.expire(key, self.ttl_s)
            try:
                answer = compute()
            except BaseException:
                self.client.hdel(key, f"claim:{step}")
                raise
            self.client.hset(key, f"answer:{step}", json.dumps(answer))
            return answer
        stored = poll(lambda: self.client.hget(key, f"answer:{step}"), wait_s)
        if stored is None:
            return busy
        result: Answer = json.loads(stored)
        return result


def poll(read: Callable[[], Any], wait_s: float) -> Any:
    """``read()`` until it gives something, for at most ``wait_s`` (a short wait, in a worker thread)."""
    deadline = time.monotonic() + wait_s
    while True:
        found = read()
        if found is not None or time.monotonic() >= deadline:
            return found
        time.sleep(POLL_S)
