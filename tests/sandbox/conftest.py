"""Fixtures for the sandbox tests: a real uvicorn server per test, a webhook receiver, the SDK.

The sandbox runs under ``uvicorn.Server`` in a thread (fast, and a real socket, so dropped
connections and timeouts are real). The receiver is a threaded stdlib HTTP server whose answer
(status, delay) a test chooses per request; it records every request with its arrival time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import http.server
import json
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from frameio import Frameio

from sandbox.app import create_app
from sandbox.config import SandboxConfig
from service.processes import free_port, wait_until

NO_RETRY: Any = {"max_retries": 0}
_TLS = ssl.create_default_context()  # built once: every httpx.Client would otherwise build its own


def verify_signature(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The documented check, written here from the docs: v0=HMAC-SHA256(secret, "v0:{ts}:{body}")."""
    timestamp = headers.get("x-frameio-request-timestamp", "")
    signature = headers.get("x-frameio-signature", "")
    expected = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) <= 300
    return fresh and hmac.compare_digest(signature, "v0=" + expected)


@dataclass
class Sandbox:
    """A running sandbox with handy clients."""

    base_url: str
    state: dict[str, str]
    server: uvicorn.Server
    thread: threading.Thread
    http: httpx.Client
    sdk: Frameio

    @property
    def account(self) -> str:
        return self.state["account_id"]

    @property
    def root(self) -> str:
        return self.state["root_folder_id"]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.state['token']}"}

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A raw call to ``/v4/accounts/{account}{path}`` with the bearer token."""
        headers = {**self.auth, **kwargs.pop("headers", {})}
        return self.http.request(method, f"/v4/accounts/{self.account}{path}", headers=headers, **kwargs)

    def configure(self, **knobs: Any) -> None:
        response = self.http.patch("/_sandbox/config", json=knobs)
        assert response.status_code == 200, response.text

    def upload(self, name: str, folder_id: str | None = None, **extra: Any) -> dict[str, Any]:
        body = {"folder_id": folder_id or self.root, "name": name, **extra}
        response = self.http.post("/_sandbox/upload", json=body)
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    def folder(self, name: str, parent_id: str | None = None) -> str:
        response = self.api("POST", f"/folders/{parent_id or self.root}/folders", json={"data": {"name": name}})
        assert response.status_code == 201, response.text
        folder_id: str = response.json()["data"]["id"]
        return folder_id

    def stack(self, folder_id: str, file_ids: list[str]) -> dict[str, Any]:
        response = self.api("POST", f"/folders/{folder_id}/version_stacks", json={"data": {"file_ids": file_ids}})
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    def children_names(self, stack_id: str) -> list[str]:
        response = self.api("GET", f"/version_stacks/{stack_id}/children")
        assert response.status_code == 200, response.text
        return [child["name"] for child in response.json()["data"]]

    def tree(self, folder_id: str | None = None) -> dict[str, Any]:
        found: dict[str, Any] = self.http.get("/_sandbox/tree", params={"folder_id": folder_id or self.root}).json()
        return found

    def deliveries(self, **filters: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.http.get("/_sandbox/deliveries", params=filters).json()["deliveries"]
        return found

    def calls(self) -> dict[tuple[str, Any], int]:
        listing = self.http.get("/_sandbox/calls").json()["calls"]
        return {(row["endpoint"], row["status"]): row["count"] for row in listing}

    def fault(self, **spec: Any) -> None:
        response = self.http.post("/_sandbox/faults", json=spec)
        assert response.status_code == 201, response.text

    def action(self, url: str, event: str = "test.action", name: str = "Test action") -> dict[str, Any]:
        body = {"data": {"name": name, "description": "a test", "event": event, "url": url}}
        path = f"/workspaces/{self.state['workspace_id']}/actions"
        response = self.api("POST", path, json=body, headers={"api-version": "experimental"})
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    def click(self, action_id: str, resource_id: str, resource_type: str, **extra: Any) -> dict[str, Any]:
        body = {"resource_id": resource_id, "resource_type": resource_type, **extra}
        response = self.http.post(f"/_sandbox/actions/{action_id}/click", json=body, timeout=120)
        assert response.status_code == 200, response.text
        record: dict[str, Any] = response.json()
        return record

    def webhook(self, url: str, events: list[str]) -> dict[str, Any]:
        body = {"data": {"name": "test hook", "url": url, "events": events}}
        response = self.api("POST", f"/workspaces/{self.state['workspace_id']}/webhooks", json=body)
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()["data"]
        return data


@contextlib.contextmanager
def running_sandbox(config: SandboxConfig) -> Iterator[Sandbox]:
    port = free_port()
    app = create_app(config)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical", ws="none", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name=f"sandbox-{port}", daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), 10, interval=0.005, what="the sandbox to start")
    assert server.started, "the sandbox did not start"
    base_url = f"http://127.0.0.1:{port}"
    http = httpx.Client(base_url=base_url, timeout=10, verify=_TLS)
    state = http.get("/_sandbox/state").json()
    sdk_http = httpx.Client(timeout=10, verify=_TLS)
    sdk = Frameio(base_url=base_url, token=state["token"], httpx_client=sdk_http)
    try:
        yield Sandbox(base_url, state, server, thread, http, sdk)
    finally:
        http.close()
        sdk_http.close()
        server.should_exit = True
        thread.join(15)


def fast_config(**knobs: Any) -> SandboxConfig:
    """Defaults, but with time scaled down so tests finish quickly."""
    base: dict[str, Any] = {"transcode_delay_s": 0.05, "delivery_time_scale": 0.005, "seed": 7}
    base.update(knobs)
    return SandboxConfig(**base)


@pytest.fixture(scope="session")
def shared_sandbox() -> Iterator[Sandbox]:
    """One server for the whole session; each test gets a fresh world through ``/_sandbox/reset``."""
    with running_sandbox(fast_config()) as running:
        yield running


def _reset(shared: Sandbox, knobs: dict[str, Any]) -> Sandbox:
    response = shared.http.post("/_sandbox/reset", json=knobs)
    assert response.status_code == 200, response.text
    return dataclasses.replace(shared, state=response.json())


@pytest.fixture
def sandbox(shared_sandbox: Sandbox) -> Sandbox:
    """A fresh sandbox world with the fast defaults."""
    return _reset(shared_sandbox, {})


@pytest.fixture
def make_sandbox(shared_sandbox: Sandbox) -> Callable[..., Sandbox]:
    """``make_sandbox(**knobs)``: a fresh world with those knobs (the previous one is gone)."""

    def make(**knobs: Any) -> Sandbox:
        return _reset(shared_sandbox, knobs)

    return make


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.body)
        return found


Answer = Callable[[Received, int], tuple[int, float]]


@dataclass
class Receiver:
    """A webhook endpoint; ``answer(request, n)`` -> (status, delay in seconds)."""

    url: str
    requests: list[Received] = field(default_factory=list)
    answer: Answer = lambda request, number: (200, 0.0)
    reply: Callable[[Received, int], bytes] = lambda request, number: b""
    """The body of the answer (JSON), for a receiver playing a Custom Action's server."""
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of_type(self, event_type: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.json()["type"] == event_type]

    def types_for(self, resource_id: str) -> list[str]:
        with self.lock:
            found = [r.json() for r in self.requests]
        return [body["type"] for body in found if body["resource"]["id"] == resource_id]


class _Handler(http.server.BaseHTTPRequestHandler):
    receiver: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        received = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.monotonic())
        with self.receiver.lock:
            self.receiver.requests.append(received)
            number = len(self.receiver.requests)
        status, delay = self.receiver.answer(received, number)
        if delay:
            self.receiver.stopping.wait(delay)
        reply = self.receiver.reply(received, number)
        with contextlib.suppress(OSError):
            self.send_response(status)
            self.send_header("content-length", str(len(reply)))
            if reply:
                self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(reply)

    def log_message(self, format: str, *args: Any) -> None:
        del format, args


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        del request, client_address


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    handler = type("Handler", (_Handler,), {})
    server = _Server(("127.0.0.1", 0), handler)
    hook = Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook")
    handler.receiver = hook  # type: ignore[attr-defined]  # a per-fixture subclass carries its receiver
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="receiver", daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        hook.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
