"""Progress of a long command (backfill, undo, unstack): on a terminal, rich's bar with the count,
the time spent and the ETA; elsewhere (a log file, a CI job, a pipe) one plain line per step,
``2026-03-01 14:00:05 UTC backfill 3/120 created a_v2.mov``, so a log shows how far it got.

``note`` is for what is not a step: a phase begun (listing folders, reading a stack) or a wait
(Frame.io's rate limit), so a command never sits silent.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from service.tables import utc_text


class Steps:
    """``with Steps(out, "backfill", total) as steps: steps.advance("created a_v2.mov")``."""

    def __init__(self, out: TextIO, what: str, total: int | None = None, terminal: bool | None = None) -> None:
        self.out = out
        self.what = what
        self.total = total
        self.done = 0
        self.terminal = _is_terminal(out) if terminal is None else terminal
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> Steps:
        if self.terminal:
            console = Console(file=self.out, force_terminal=True)
            self._bar = Progress(*_columns(), console=console)
            self._bar.start()
            self._task = self._bar.add_task(self.what, total=self.total)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def advance(self, text: str) -> None:
        """One step done."""
        self.done += 1
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, advance=1, description=f"{self.what}: {text}")
            return
        of = f"/{self.total}" if self.total is not None else ""
        self._line(f"{self.done}{of} {text}")

    def note(self, text: str) -> None:
        """Not a step: a phase begun or a wait."""
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, description=f"{self.what}: {text}")
            return
        self._line(text)

    def _line(self, text: str) -> None:
        self.out.write(f"{utc_text(time.time())} {self.what} {text}\n")
        self.out.flush()


def _columns() -> tuple[ProgressColumn, ...]:
    return (
        SpinnerColumn(),
        TextColumn("{task.description}", justify="left"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )


def _is_terminal(out: TextIO) -> bool:
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty())
