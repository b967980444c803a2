"""Structured logs: one JSON object a line on stderr, with the request or job ids bound.

Everything logs through the standard library (autostack, RQ, uvicorn); structlog renders it, and
ids bound with :func:`bind` (structlog's context variables) appear on every line logged while
handling that request or job. Secrets never reach a log line: nothing logs settings, tokens,
signatures or bodies.
"""

from __future__ import annotations

import logging
import sys
from typing import Literal

import structlog

_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure_logging(fmt: Literal["json", "text"] = "json", level: int = logging.INFO) -> None:
    """Route every standard-library logger through structlog's renderer (JSON or console text)."""
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )


def bind(**ids: str) -> None:
    """Bind ids (request_id, job_id, file_id ...) to every line logged from here on in this context."""
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(**ids)
