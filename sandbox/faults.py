"""Injected faults: the next N calls to an endpoint (or ``*``) fail in a chosen way.

Kinds: ``status`` (answer that status with an error body), ``timeout`` (answer only after
``delay_s``, longer than a client's timeout), ``drop`` (close the connection without an answer),
``slow`` (add ``delay_s`` and answer normally). ``phase`` ``before`` (default) fails the call
before it does anything; ``after`` performs the call and then fails the answer: the write
happened, the client never learns it (the case that makes non-idempotent writes dangerous).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from sandbox.errors import ApiProblem

Kind = Literal["status", "timeout", "drop", "slow"]
KINDS: tuple[str, ...] = ("status", "timeout", "drop", "slow")
DEFAULT_DELAYS = {"timeout": 65.0, "slow": 2.0}


@dataclass
class Fault:
    endpoint: str
    kind: str
    count: int
    status: int = 503
    delay_s: float = 0.0
    phase: str = "before"

    def matches(self, endpoint: str) -> bool:
        return self.count > 0 and self.endpoint in ("*", endpoint)


def parse_fault(body: Any, endpoints: frozenset[str]) -> Fault:
    """Validate ``POST /_sandbox/faults``; raises 422 on anything odd."""
    if not isinstance(body, dict):
        raise ApiProblem(422, "body must be a JSON object")
    endpoint, kind = body.get("endpoint"), body.get("kind")
    if endpoint != "*" and endpoint not in endpoints:
        raise ApiProblem(422, f"unknown endpoint {endpoint!r}; one of {sorted(endpoints)} or *")
    if kind not in KINDS:
        raise ApiProblem(422, f"kind must be one of {list(KINDS)}")
    count, status = body.get("count", 1), body.get("status", 503)
    delay = body.get("delay_s", DEFAULT_DELAYS.get(str(kind), 0.0))
    phase = body.get("phase", "before")
    if not isinstance(count, int) or count < 1:
        raise ApiProblem(422, "count must be a positive integer")
    if not isinstance(status, int) or not 400 <= status <= 599:
        raise ApiProblem(422, "status must be an HTTP error status (400-599)")
    if isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0:
        raise ApiProblem(422, "delay_s must be a non-negative number")
    if phase not in ("before", "after"):
        raise ApiProblem(422, "phase must be before or after")
    return Fault(str(endpoint), str(kind), count, status, float(delay), str(phase))


class FaultBook:
    """Pending faults, consumed first come first served."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self._faults.append(fault)

    def take(self, endpoint: str) -> Fault | None:
        """The fault for this call, if any (its count goes down by one)."""
        for fault in self._faults:
            if fault.matches(endpoint):
                fault.count -= 1
                self._faults = [f for f in self._faults if f.count > 0]
                return Fault(fault.endpoint, fault.kind, 1, fault.status, fault.delay_s, fault.phase)
        return None

    def clear(self) -> None:
        self._faults.clear()

    def listing(self) -> list[dict[str, Any]]:
        return [asdict(fault) for fault in self._faults]
