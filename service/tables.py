"""Plain text for the command line: tables (columns padded, the last one left free) and times.

Every time the command line prints is UTC with the zone shown (:func:`utc_text`); JSON output
carries ISO 8601 with the offset (:func:`utc_iso`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime


def table_lines(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """One line per row (headers first); every column but the last is padded to its widest cell."""
    table = [tuple(headers), *(tuple(cell.replace("\t", " ").replace("\n", " ") for cell in row) for row in rows)]
    widths = [max(len(line[column]) for line in table) for column in range(len(headers) - 1)]
    return ["  ".join([*(c.ljust(w) for c, w in zip(line, widths, strict=False)), line[-1]]).rstrip() for line in table]


def utc_text(at: float) -> str:
    """``2026-03-01 14:00:05 UTC``."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def utc_iso(at: float | None) -> str | None:
    """``2026-03-01T14:00:05+00:00``, None for None."""
    return None if at is None else datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")
