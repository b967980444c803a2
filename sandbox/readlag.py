"""Reads that lag writes (knob ``read_lag_ms``): eventual consistency, kept simple and consistent.

Every write to stacks (create stack, move file, move stack, copy stack, reorder) goes through
:meth:`ReadLag.write`, which, when the lag is above zero, keeps a frozen copy of the folders,
files and stacks as they were just before the write, stamped with the time of the write. A read
(:meth:`ReadLag.view`) made while any write is younger than the lag sees the copy kept for the
oldest such write: the world from before it, so that write and every later one are not visible
yet, and what is visible is a state the world really was in. Copies older than the lag are
dropped. With the lag at zero nothing is copied and reads see the live store.

The clock is injectable (``Sandbox.clock``), so tests step time instead of sleeping.
"""

from __future__ import annotations

import copy
import dataclasses
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sandbox.state import Store


@dataclass(frozen=True)
class Before:
    """The world just before a write made at ``at`` (seconds on the sandbox clock)."""

    at: float
    store: Store


def freeze(store: Store) -> Store:
    """A copy of ``store`` whose folders, files and stacks no later write can change."""
    return dataclasses.replace(
        store,
        folders=copy.deepcopy(store.folders),
        files=copy.deepcopy(store.files),
        stacks=copy.deepcopy(store.stacks),
    )


class ReadLag:
    """The recent writes' "before" copies, oldest first."""

    def __init__(self) -> None:
        self._writes: deque[Before] = deque()

    def __len__(self) -> int:
        return len(self._writes)

    @contextmanager
    def write(self, store: Store, now: float, lag_s: float) -> Iterator[None]:
        """Wrap a write; the copy is kept only if the write succeeds (no exception)."""
        if lag_s <= 0:
            yield
            return
        before = freeze(store)
        yield
        self._writes.append(Before(now, before))

    def view(self, store: Store, now: float, lag_s: float) -> Store:
        """The store a read at ``now`` sees: the live one, or the world before the oldest recent write."""
        while self._writes and now - self._writes[0].at >= lag_s:
            self._writes.popleft()
        return self._writes[0].store if self._writes else store

    def clear(self) -> None:
        self._writes.clear()
