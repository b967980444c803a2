"""A uvicorn server that ends with exit status 0 after a SIGTERM or SIGINT.

uvicorn finishes in-flight requests on SIGTERM (graceful shutdown) and then re-raises the signal,
so the process dies "killed by SIGTERM". A deployment reads that as a crash; this server stops the
same graceful way and returns normally. A second signal stops waiting for open connections.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

import uvicorn


class GracefulServer(uvicorn.Server):
    """uvicorn re-raises a caught SIGTERM after its graceful shutdown; we stop and exit 0 instead."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        del signum, frame
        if self.should_exit:
            self.force_exit = True  # a second signal: stop waiting for open connections
        self.should_exit = True
