"""Structured logs: JSON lines from every standard-library logger, with the bound ids."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from workers.logs import bind, configure_logging


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("restore_logging")
def test_every_logger_writes_json_lines_with_the_bound_ids(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json")
    bind(job_id="job-1", file_id="file-9")
    logging.getLogger("rq.worker").info("job %s done", "job-1")
    bind(request_id="req-2")  # a new context forgets the old ids
    logging.getLogger("autostack.webhooks").warning("queue unavailable")
    first, second = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert first["event"] == "job job-1 done"
    assert (first["job_id"], first["file_id"], first["logger"], first["level"]) == (
        "job-1",
        "file-9",
        "rq.worker",
        "info",
    )
    assert second["request_id"] == "req-2"
    assert "job_id" not in second
    assert second["timestamp"].endswith("Z")


@pytest.mark.usefixtures("restore_logging")
def test_text_format_is_for_people(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("text")
    logging.getLogger("autostack.jobs").info("hello")
    line = capsys.readouterr().err.strip()
    assert "hello" in line
    assert not line.startswith("{")
