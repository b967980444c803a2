"""Fixtures for the workers' tests live in ``tests/conftest.py``; the in-process sandbox is re-exported
here for the tests that name its type."""

from tests.inprocess_sandbox import InProcessSandbox

__all__ = ["InProcessSandbox"]
