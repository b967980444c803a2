"""Holds: files a person took out of a stack (``autostack undo``), which autostack leaves alone.

A held file is neither stacked nor a peer others are stacked onto, until a person clears the
hold or renames the file (a hold names the file's name when it was undone), or for a year:
``HOLD_TTL_S`` after the undo the hold is forgotten (nothing autostack writes lives forever), and a
later event or sweep in the folder may stack the file again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import redis

from workers.frameio.models import Asset, FileAsset

HOLD_KEY = "autostack:held:{file_id}"
HOLD_TTL_S = 365 * 24 * 3600


@dataclass(frozen=True)
class Hold:
    name: str  # the file's name when it was undone: another name means the hold is cleared
    by: str
    reason: str
    at: float


class Holds:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def hold(self, file_id: str, hold: Hold) -> None:
        self.client.set(HOLD_KEY.format(file_id=file_id), json.dumps(asdict(hold)), ex=HOLD_TTL_S)

    def clear(self, file_id: str) -> Hold | None:
        """Clear the hold; returns it (None when there was none)."""
        hold = self.get(file_id)
        self.client.delete(HOLD_KEY.format(file_id=file_id))
        return hold

    def get(self, file_id: str) -> Hold | None:
        raw: bytes | None = self.client.get(HOLD_KEY.format(file_id=file_id))  # type: ignore[assignment]
        return _hold(raw)

    def is_held(self, file_id: str, name: str) -> bool:
        """True when the file was undone under this very name and nobody cleared the hold."""
        hold = self.get(file_id)
        return hold is not None and hold.name == name

    def reason(self, file: FileAsset) -> str | None:
        """Why the stacker leaves ``file`` alone, or None when it is not held back."""
        hold = self.get(file.id)
        if hold is None or hold.name != file.name:
            return None
        why = f": {hold.reason}" if hold.reason else ""
        return f"held back: undone by {hold.by}{why} (clear with `autostack undo --clear --file {file.id}`)"

    def held_ids(self, assets: Sequence[Asset]) -> set[str]:
        """The ids of the files among ``assets`` that are held back (one MGET)."""
        files = [asset for asset in assets if isinstance(asset, FileAsset)]
        if not files:
            return set()
        raw: list[bytes | None] = self.client.mget([HOLD_KEY.format(file_id=file.id) for file in files])  # type: ignore[assignment]
        return {
            file.id for file, text in zip(files, raw, strict=True) if (hold := _hold(text)) and hold.name == file.name
        }


class NoHolds:
    """Holds nothing back (tests, the naive baseline)."""

    def reason(self, file: FileAsset) -> str | None:
        return None

    def held_ids(self, assets: Sequence[Asset]) -> set[str]:
        return set()


def without_held(holds: Holds | NoHolds, assets: Sequence[Asset]) -> list[Asset]:
    """``assets`` less the files held back: they are neither targets nor peers."""
    held = holds.held_ids(assets)
    return [asset for asset in assets if asset.id not in held]


def unheld_files(holds: Holds | NoHolds, assets: Sequence[Asset]) -> list[FileAsset]:
    """The files among ``assets`` that no undo holds back (what the stacker may plan with)."""
    return [asset for asset in without_held(holds, assets) if isinstance(asset, FileAsset)]


def _hold(raw: bytes | None) -> Hold | None:
    return None if raw is None else Hold(**json.loads(raw))
