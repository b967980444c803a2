"""A write autostack made to Frame.io, as the journal, the memory and undo know it. Pure data."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Write:
    """One write autostack made: it created ``stack_id`` from ``file_ids``, or moved a file in."""

    action: str  # created | added
    stack_id: str
    folder_id: str
    file_ids: tuple[str, ...]
    at: float
    job_id: str = ""


@dataclass(frozen=True)
class JournalEntry:
    """One journaled write and the account it was made in ("" when the caller did not say)."""

    account_id: str
    write: Write
