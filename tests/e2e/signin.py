"""Sign a LocalStack in as a user with the real ``autostack login`` process, its browser played by
following the sandbox's authorize redirect and pasting where it lands."""

from __future__ import annotations

import subprocess

import httpx

from service.launcher import LocalStack
from service.processes import autostack_argv

WEB_CLIENT = {
    "FRAMEIO_TOKEN": "",
    "FRAMEIO_AUTH": "user",
    "FRAMEIO_CLIENT_ID": "sandbox-web-client",
    "FRAMEIO_CLIENT_SECRET": "sandbox-web-secret",
    "FRAMEIO_REDIRECT_URI": "http://127.0.0.1:9/callback",
}


def user_env(stack: LocalStack, client: dict[str, str] | None = None) -> dict[str, str]:
    return {**(client or WEB_CLIENT), "FRAMEIO_IMS_URL": stack.sandbox_url}


def login(stack: LocalStack, env: dict[str, str]) -> bytes:
    """``autostack login --code -``: what it printed (stdout and stderr)."""
    with subprocess.Popen(
        autostack_argv("login", "--code", "-"),
        env={**stack.env(), **env},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    ) as child:
        assert child.stdout is not None and child.stdin is not None
        printed = b""
        while b"/ims/authorize/v2?" not in printed:
            line = child.stdout.readline()
            assert line, printed
            printed += line
        url = printed.split(b"\n")[-2].strip().decode()
        landed = httpx.get(url, follow_redirects=False, timeout=10).headers["location"]
        rest, _ = child.communicate(landed.encode() + b"\n", timeout=30)
        assert child.returncode == 0, printed + rest
        return printed + rest
