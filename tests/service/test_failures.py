"""Every failure a user can cause or meet: one line naming the cause and the fix, exit 1 or 2, no
traceback unless ``--debug``. Real processes, a real Redis with a password, a real TLS server
with a certificate nobody trusts, and a Frame.io address where nothing listens."""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.failures import failure_for
from service.processes import autostack_argv, free_port, start_redis
from tests.service.conftest import run_autostack
from workers.frameio.accounts import NoCredential
from workers.frameio.errors import NotFound, ServerError, Unauthorized

NOWHERE = {"FRAMEIO_TOKEN": "t", "FRAMEIO_ACCOUNT_ID": "acc"}


def autostack(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    return run_autostack(*args, env=env)


def one_line(err: str) -> str:
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    return err


@pytest.fixture
def closed_port_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def untrusted_tls_url(tmp_path: Path) -> Iterator[str]:
    """An HTTPS server whose self-signed certificate no client trusts."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    request = ("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-days", "1")
    subprocess.run(
        [*request, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    done = threading.Event()

    def serve() -> None:
        while True:
            raw, _ = listener.accept()
            if done.is_set():
                raw.close()
                return
            try:
                with context.wrap_socket(raw, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                pass  # the client refused our certificate, as it should

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        done.set()
        socket.create_connection(("127.0.0.1", port)).close()  # wakes the accept to see it is done
        thread.join(timeout=10)
        listener.close()


@pytest.mark.parametrize(
    "command",
    [
        ["backfill", "--folder", "f", "--dry-run"],
        ["webhooks", "register", "--workspace", "w", "--url", "https://example.test/webhooks/frameio"],
    ],
    ids=["backfill", "webhooks-register"],
)
def test_frameio_unreachable_is_one_line_naming_the_setting(
    command: list[str], closed_port_url: str, redis_url: str
) -> None:
    code, _, err = autostack(*command, env={**NOWHERE, "FRAMEIO_BASE_URL": closed_port_url, "REDIS_URL": redis_url})
    assert code == 1
    assert "cannot be reached (Connection refused)" in one_line(err) and "FRAMEIO_BASE_URL" in err


def test_a_wrong_redis_password_is_named_as_such(tmp_path: Path) -> None:
    child, url = start_redis(password="right", data_dir=tmp_path / "redis")
    try:
        wrong = url.replace(":right@", ":wrong@")
        code, _, err = autostack("status", env={"REDIS_URL": wrong})
    finally:
        child.stop()
    assert code == 2
    assert "Redis refused the password" in one_line(err) and "wrong" not in err


def test_an_untrusted_tls_certificate_is_named_as_such(untrusted_tls_url: str, redis_url: str) -> None:
    env = {**NOWHERE, "FRAMEIO_BASE_URL": untrusted_tls_url, "REDIS_URL": redis_url}
    code, _, err = autostack("backfill", "--folder", "f", "--dry-run", env=env)
    assert code == 2
    assert "TLS certificate is not trusted (self-signed certificate)" in one_line(err)
    assert "SSL_CERT_FILE" in err


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_shows_the_traceback(where: str, closed_port_url: str, redis_url: str) -> None:
    command = ["backfill", "--folder", "f", "--dry-run"]
    argv = ["--debug", *command] if where == "before" else [*command, "--debug"]
    code, _, err = autostack(*argv, env={**NOWHERE, "FRAMEIO_BASE_URL": closed_port_url, "REDIS_URL": redis_url})
    assert code == 1 and "Traceback" in err and "TransportError" in err


@pytest.mark.parametrize(
    ("error", "words", "code"),
    [
        (Unauthorized("list_folder_children", 401), "refused the token (HTTP 401)", 2),
        (NoCredential("acc-9"), "no Frame.io credential for account acc-9", 2),
        (NotFound("show_folder", 404), "knows no such resource", 1),
        (ServerError("show_folder", 503), "answered HTTP 503", 1),
        (ValueError("boom"), "unexpected error (ValueError)", 1),
        (PermissionError(13, "Permission denied", "/etc/rules.toml"), "Permission denied (/etc/rules.toml)", 1),
    ],
)
def test_frameio_answers_and_the_unforeseen_get_one_line(error: Exception, words: str, code: int) -> None:
    failure = failure_for(error)
    assert words in failure.line("x") and failure.exit_code == code
    assert "\n" not in failure.line("x")


def test_output_cut_short_by_its_reader_ends_quietly() -> None:
    reader = subprocess.Popen(["head", "-1"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    names = [f"shot{n:04d}_v1.mov" for n in range(5000)]  # more than a pipe holds
    writer = subprocess.run(
        autostack_argv("explain", *names), stdout=reader.stdin, stderr=subprocess.PIPE, timeout=120, check=False
    )
    assert reader.stdin is not None
    reader.stdin.close()
    reader.wait(timeout=60)
    assert writer.returncode == 1 and writer.stderr == b""
