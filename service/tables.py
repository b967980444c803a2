"""Plain-text tables for the command line: columns padded, the last one left free."""

from __future__ import annotations

from collections.abc import Sequence


def table_lines(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """One line per row (headers first); every column but the last is padded to its widest cell."""
    table = [tuple(headers), *(tuple(cell.replace("\t", " ").replace("\n", " ") for cell in row) for row in rows)]
    widths = [max(len(line[column]) for line in table) for column in range(len(headers) - 1)]
    return ["  ".join([*(c.ljust(w) for c, w in zip(line, widths, strict=False)), line[-1]]).rstrip() for line in table]
