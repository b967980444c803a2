"""An arrival: a file whose webhook was accepted into its account's inbox. Pure data."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Arrival:
    file_id: str
    event_type: str
    at: float  # when the delivery was accepted (Redis time, seconds)
    score: float  # the raw score in the inbox, for the conditional removal
