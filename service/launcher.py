"""Everything on one machine: redis-server, the sandbox, the service and RQ workers.

The demo runs on this, and so do the end-to-end tests and the benchmarks: each part is a real
process (uvicorn serving the app, ``autostack worker``), wired together by environment variables
the way a deployment wires them.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis
from rq import Queue, Worker

from service.action_menu import ACTIONS
from service.processes import Child, autostack_argv, free_port, spawn, start_redis, wait_http, wait_until
from workers.ingest.inbox import INBOXES_KEY

EVENTS = ["file.upload.completed", "file.ready"]
PERIODIC = re.compile(r"sweep_\d+")  # the next periodic sweep (not the per-file jobs a sweep queues)


@dataclass
class LocalStack:
    workdir: Path
    redis_url: str
    sandbox_url: str
    service_url: str = ""
    metrics_url: str = ""  # the service's metrics listener (AUTOSTACK_METRICS_ADDRESS), apart from service_url
    state: dict[str, str] = field(default_factory=dict)
    secret: str = ""
    webhook_id: str = ""
    # autostack's Custom Actions in the sandbox: event key -> action id, and their secrets.
    action_ids: dict[str, str] = field(default_factory=dict)
    action_secrets: list[str] = field(default_factory=list)
    # The sandbox's accounts beyond the first (``accounts`` at start): each its own workspace,
    # project, webhook and (unless the sandbox shares tokens) API user and token, which autostack
    # reads from the accounts file (FRAMEIO_ACCOUNTS_FILE); every webhook secret is the service's.
    more_accounts: list[dict[str, str]] = field(default_factory=list)
    more_secrets: list[str] = field(default_factory=list)
    queue_name: str = "autostack"
    children: list[Child] = field(default_factory=list)
    workers: list[Child] = field(default_factory=list)
    uploaded: list[str] = field(default_factory=list)

    # -- life cycle ----------------------------------------------------------------------------

    @classmethod
    def start(
        cls,
        *,
        workers: int = 1,
        sandbox_config: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        redis_url: str | None = None,
        workdir: Path | None = None,
        accounts: int = 1,
    ) -> LocalStack:
        directory = workdir or Path(tempfile.mkdtemp(prefix="autostack-stack-"))
        stack = cls(directory, redis_url or "", "")
        try:
            stack._boot(workers, sandbox_config or {}, env or {}, accounts)
        except BaseException:
            stack.stop()
            raise
        return stack

    def _boot(self, workers: int, sandbox_config: Mapping[str, Any], env: Mapping[str, str], accounts: int) -> None:
        if not self.redis_url:
            child, self.redis_url = start_redis(log_dir=self.workdir)
            self.children.append(child)
        self._start_sandbox(sandbox_config)
        self._register_webhook()
        for _ in range(accounts - 1):
            self._add_account()
        self._register_actions()
        self._start_service(env)
        for _ in range(workers):
            self.add_worker(env)

    def _start_sandbox(self, config: Mapping[str, Any]) -> None:
        port = free_port()
        self.sandbox_url = f"http://127.0.0.1:{port}"
        child = spawn("sandbox", autostack_argv("sandbox", "--port", str(port)), self.env(), self.workdir)
        self.children.append(child)
        wait_http(child, f"{self.sandbox_url}/_sandbox/state")
        if config:
            httpx.patch(f"{self.sandbox_url}/_sandbox/config", json=dict(config), timeout=5).raise_for_status()
        self.state = httpx.get(f"{self.sandbox_url}/_sandbox/state", timeout=5).json()

    def _register_webhook(self) -> None:
        port = free_port()
        self.service_url = f"http://127.0.0.1:{port}"
        path = f"/v4/accounts/{self.state['account_id']}/workspaces/{self.state['workspace_id']}/webhooks"
        payload = {"data": {"name": "autostack", "url": f"{self.service_url}/webhooks/frameio", "events": EVENTS}}
        answer = self.api("POST", path, json=payload)
        self.secret = answer["data"]["secret"]
        self.webhook_id = answer["data"]["id"]

    def _add_account(self) -> None:
        response = httpx.post(f"{self.sandbox_url}/_sandbox/accounts", timeout=10)
        response.raise_for_status()
        account: dict[str, str] = response.json()
        self.more_accounts.append(account)
        path = f"/v4/accounts/{account['account_id']}/workspaces/{account['workspace_id']}/webhooks"
        payload = {"data": {"name": "autostack", "url": f"{self.service_url}/webhooks/frameio", "events": EVENTS}}
        self.more_secrets.append(self.api("POST", path, json=payload)["data"]["secret"])
        self.write_accounts_file()

    def accounts(self) -> list[dict[str, str]]:
        """Every account of the sandbox: ``account_id``, ``workspace_id``, ``root_folder_id`` and the
        ``token`` that reaches it."""
        first = {key: self.state[key] for key in ("account_id", "workspace_id", "root_folder_id", "token")}
        return [first, *self.more_accounts]

    @property
    def accounts_file(self) -> Path:
        """The accounts file: a row with its token for each account beyond the first (the first
        is the default credential's, FRAMEIO_TOKEN)."""
        return self.workdir / "accounts.toml"

    def write_accounts_file(self, tokens: Mapping[str, str] | None = None) -> None:
        """Write the accounts file, ``tokens`` (account id -> token) replacing the sandbox's; the
        processes started from now on read it."""
        rows = [(account["account_id"], account["token"]) for account in self.more_accounts]
        given = tokens or {}
        text = "".join(
            f"[{json.dumps(account)}]\ntoken = {json.dumps(given.get(account, token))}\n\n" for account, token in rows
        )
        self.accounts_file.write_text(text)

    def _token_for(self, path: str) -> str:
        """The token that reaches the account a ``/v4/accounts/{id}/…`` path names (else the first's)."""
        parts = path.split("/")
        account_id = parts[3] if len(parts) > 3 and parts[1:3] == ["v4", "accounts"] else None
        found = next((account["token"] for account in self.more_accounts if account["account_id"] == account_id), None)
        return found or self.state["token"]

    def _register_actions(self) -> None:
        """autostack's actions, as ``autostack actions register`` creates them, posting to the service."""
        path = f"/v4/accounts/{self.state['account_id']}/workspaces/{self.state['workspace_id']}/actions"
        for spec in ACTIONS:
            fields = {"name": spec.name, "description": spec.description, "event": spec.event}
            payload = {"data": {**fields, "url": f"{self.service_url}/actions/frameio"}}
            created = self.api("POST", path, json=payload, headers={"api-version": "experimental"})["data"]
            self.action_ids[spec.event] = created["id"]
            self.action_secrets.append(created["secret"])

    def _start_service(self, env: Mapping[str, str]) -> None:
        port = self.service_url.rsplit(":", 1)[1]
        metrics_address = f"127.0.0.1:{free_port()}"
        self.metrics_url = f"http://{metrics_address}/metrics"
        argv = autostack_argv("serve", "--port", port, "--log-level", "warning")
        env = {"AUTOSTACK_METRICS_ADDRESS": metrics_address, **env}
        child = spawn("service", argv, {**self.env(), **env}, self.workdir)
        self.children.append(child)
        wait_http(child, f"{self.service_url}/healthz")
        wait_http(child, self.metrics_url)

    def add_worker(self, env: Mapping[str, str] | None = None) -> Child:
        """Start a worker and wait until it listens on the queue (or has exited)."""
        name = f"worker-{len(self.workers) + 1}"
        rq_name = f"{name}-{os.getpid()}"
        child = spawn(name, autostack_argv("worker", "--name", rq_name), {**self.env(), **(env or {})}, self.workdir)
        self.workers.append(child)
        wait_until(lambda: self._listening(child, rq_name), 60, what=f"{name} to listen on the queue")
        return child

    def _listening(self, child: Child, rq_name: str) -> bool:
        """RQ reports a worker idle or busy only from its work loop, after it installed its own
        signal handlers: a stop from then on is graceful."""
        if child.process.poll() is not None:
            return True  # it exited (a test of a bad start reads its exit code)
        client = self.redis()
        try:
            worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + rq_name, connection=client)
            return worker is not None and worker.get_state() in ("idle", "busy")
        finally:
            client.close()

    def env(self) -> dict[str, str]:
        """The environment a deployment would give autostack's processes."""
        return {
            **os.environ,  # the children inherit this process's PATH and the like; autostack reads its own below
            "REDIS_URL": self.redis_url,
            "FRAMEIO_BASE_URL": self.sandbox_url or "http://127.0.0.1:9",
            "FRAMEIO_TOKEN": self.state.get("token", "unset"),
            "FRAMEIO_WEBHOOK_SECRETS": ",".join(filter(None, [self.secret, *self.more_secrets])) or "unset",
            "FRAMEIO_ACTION_SECRETS": ",".join(self.action_secrets) or "unset",
            "FRAMEIO_ACCOUNTS_FILE": str(self.accounts_file) if self.more_accounts else "",
            "AUTOSTACK_QUEUE": self.queue_name,
        }

    def stop(self) -> None:
        for child in [*self.workers, *reversed(self.children)]:
            child.stop()
        self.workers.clear()
        self.children.clear()

    # -- the sandbox -------------------------------------------------------------------------

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """A Frame.io call with the token of the account the path names."""
        headers = {"authorization": f"Bearer {self._token_for(path)}", **kwargs.pop("headers", {})}
        response = httpx.request(method, f"{self.sandbox_url}{path}", headers=headers, timeout=10, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def create_folder(self, name: str, parent_id: str | None = None, account_id: str | None = None) -> str:
        parent = parent_id or self.state["root_folder_id"]
        path = f"/v4/accounts/{account_id or self.state['account_id']}/folders/{parent}/folders"
        folder_id: str = self.api("POST", path, json={"data": {"name": name}})["data"]["id"]
        return folder_id

    def upload(self, folder_id: str, name: str, **extra: Any) -> dict[str, Any]:
        response = httpx.post(
            f"{self.sandbox_url}/_sandbox/upload", json={"folder_id": folder_id, "name": name, **extra}, timeout=10
        )
        response.raise_for_status()
        data: dict[str, Any] = response.json()["data"]
        self.uploaded.append(data["id"])
        return data

    def tree(self, folder_id: str | None = None) -> dict[str, Any]:
        params = {"folder_id": folder_id} if folder_id else {}
        response = httpx.get(f"{self.sandbox_url}/_sandbox/tree", params=params, timeout=10)
        response.raise_for_status()
        tree: dict[str, Any] = response.json()
        return tree

    def click(self, event: str, resource_id: str, resource_type: str, **extra: Any) -> dict[str, Any]:
        """Click autostack's action ``event`` on a resource as a person (``values`` fills its forms;
        ``user_id``, ``interaction_id`` as the sandbox's control takes them): the screens shown."""
        body = {"resource_id": resource_id, "resource_type": resource_type, **extra}
        url = f"{self.sandbox_url}/_sandbox/actions/{self.action_ids[event]}/click"
        response = httpx.post(url, json=body, timeout=120)
        response.raise_for_status()
        record: dict[str, Any] = response.json()
        return record

    def deliveries(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.sandbox_url}/_sandbox/deliveries", timeout=10)
        response.raise_for_status()
        items: list[dict[str, Any]] = response.json()["deliveries"]
        return items

    # -- waiting -----------------------------------------------------------------------------

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url)

    def queue_idle(self) -> bool:
        client = self.redis()
        try:
            queue = Queue(self.queue_name, connection=client)
            # The next periodic sweep is always scheduled; it is not work in flight.
            scheduled = [job for job in queue.scheduled_job_registry.get_job_ids() if not PERIODIC.fullmatch(job)]
            # A dequeued job sits in RQ's intermediate list until the worker registers it as started.
            taken = int(client.llen(queue.intermediate_queue_key))
            busy = [worker for worker in Worker.all(queue=queue) if worker.get_state() == "busy"]
            drained = queue.count == 0 and taken == 0 and queue.started_job_registry.count == 0
            # An accepted delivery waits in its account's inbox until a drain decides it.
            inboxes = int(client.scard(INBOXES_KEY))
            return drained and not scheduled and not busy and inboxes == 0
        finally:
            client.close()

    def deliveries_settled(self, expected: int = 0) -> bool:
        items = self.deliveries()
        return len(items) >= expected and all(item.get("state") != "pending" for item in items)

    def wait_idle(self, timeout: float = 60.0, expected_deliveries: int = 0) -> None:
        """Until at least ``expected_deliveries`` webhooks exist, every one is delivered (or given
        up), and every job has run."""

        def idle() -> bool:
            for worker in self.workers:
                if not worker.alive():
                    raise RuntimeError(f"{worker.name} died:\n{worker.log()[-3000:]}")
            return self.deliveries_settled(expected_deliveries) and self.queue_idle()

        # Idle twice in a row: between two of RQ's steps a job can briefly be in none of its lists.
        wait_until(idle, timeout, interval=0.1, what="the deliveries and the queue to drain")
        wait_until(idle, timeout, interval=0.1, what="the deliveries and the queue to stay drained")
