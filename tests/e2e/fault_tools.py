"""Helpers for the fault tests (issue 7): sandbox faults and counts, decisions after a moment,
hard kills of RQ workers with their work horses, a redis-server of the test's own, signed
deliveries sent by hand and slowly.

Everything waits on a condition with a deadline (:func:`service.processes.wait_until`); nothing
sleeps to synchronise.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import redis
from rq import Queue, Worker

from service.launcher import LocalStack
from service.processes import Child, start_redis, wait_until
from service.signature import sign
from workers import decisions
from workers.decisions import Decision
from workers.ingest.queue import DRAIN_PREFIX as DRAIN_JOB_PREFIX
from workers.ingest.queue import file_job_id as job_id_for

UPLOAD_COMPLETED = "file.upload.completed"

# -- the sandbox's faults and call counts ------------------------------------------------------


def add_fault(
    stack: LocalStack,
    endpoint: str,
    kind: str,
    *,
    status: int = 503,
    count: int = 1,
    delay_s: float | None = None,
    phase: str = "before",
) -> None:
    body: dict[str, Any] = {"endpoint": endpoint, "kind": kind, "status": status, "count": count, "phase": phase}
    if delay_s is not None:
        body["delay_s"] = delay_s
    httpx.post(f"{stack.sandbox_url}/_sandbox/faults", json=body, timeout=5).raise_for_status()


def pending_faults(stack: LocalStack) -> list[dict[str, Any]]:
    response = httpx.get(f"{stack.sandbox_url}/_sandbox/faults", timeout=5)
    response.raise_for_status()
    faults: list[dict[str, Any]] = response.json()["faults"]
    return faults


def clear_faults(stack: LocalStack) -> None:
    httpx.delete(f"{stack.sandbox_url}/_sandbox/faults", timeout=5).raise_for_status()


def reset_calls(stack: LocalStack) -> None:
    httpx.post(f"{stack.sandbox_url}/_sandbox/calls/reset", timeout=5).raise_for_status()


def calls(stack: LocalStack, endpoint: str) -> dict[str, int]:
    """How often ``endpoint`` was answered with each status since the last reset ("dropped"
    for a dropped connection)."""
    response = httpx.get(f"{stack.sandbox_url}/_sandbox/calls", timeout=5)
    response.raise_for_status()
    counts: dict[str, int] = {}
    for row in response.json()["calls"]:
        if row["endpoint"] == endpoint:
            counts[str(row["status"])] = counts.get(str(row["status"]), 0) + int(row["count"])
    return counts


def successes(stack: LocalStack, endpoint: str) -> int:
    return sum(count for status, count in calls(stack, endpoint).items() if status.isdigit() and int(status) < 300)


def patch_config(stack: LocalStack, **knobs: Any) -> None:
    httpx.patch(f"{stack.sandbox_url}/_sandbox/config", json=knobs, timeout=5).raise_for_status()


def set_webhook_active(stack: LocalStack, active: bool) -> None:
    path = f"/v4/accounts/{stack.state['account_id']}/webhooks/{stack.webhook_id}"
    stack.api("PATCH", path, json={"data": {"active": active}})


def deliveries_for(stack: LocalStack, file_id: str, event_type: str = UPLOAD_COMPLETED) -> list[dict[str, Any]]:
    params = {"resource_id": file_id, "event_type": event_type}
    response = httpx.get(f"{stack.sandbox_url}/_sandbox/deliveries", params=params, timeout=5)
    response.raise_for_status()
    items: list[dict[str, Any]] = response.json()["deliveries"]
    return items


def attempts_for(stack: LocalStack, file_id: str, event_type: str = UPLOAD_COMPLETED) -> list[dict[str, Any]]:
    return [attempt for item in deliveries_for(stack, file_id, event_type) for attempt in item["attempts"]]


def delivered(stack: LocalStack, *file_ids: str) -> bool:
    """Every file's upload-completed delivery has been answered 2xx."""
    return all(
        any(attempt.get("status_code") is not None and attempt["status_code"] < 300 for attempt in attempts)
        for attempts in (attempts_for(stack, file_id) for file_id in file_ids)
    )


# -- the tree ---------------------------------------------------------------------------------


def stacks(tree: dict[str, Any]) -> list[list[str]]:
    """Each stack's children, top first."""
    return [[child["name"] for child in stack["children"]] for stack in tree["stacks"]]


def loose(tree: dict[str, Any]) -> list[str]:
    return sorted(file["name"] for file in tree["files"])


def folder_path(stack: LocalStack, folder_id: str) -> str:
    return f"/v4/accounts/{stack.state['account_id']}/folders/{folder_id}"


def hand_stack(stack: LocalStack, folder_id: str, file_ids: list[str]) -> str:
    """A version stack made by a person, through the API."""
    answer = stack.api("POST", f"{folder_path(stack, folder_id)}/version_stacks", json={"data": {"file_ids": file_ids}})
    stack_id: str = answer["data"]["id"]
    return stack_id


def move_by_hand(stack: LocalStack, file_id: str, parent_id: str) -> None:
    path = f"/v4/accounts/{stack.state['account_id']}/files/{file_id}/move"
    stack.api("PATCH", path, json={"data": {"parent_id": parent_id}})


def delete_file(stack: LocalStack, file_id: str) -> None:
    stack.api("DELETE", f"/v4/accounts/{stack.state['account_id']}/files/{file_id}")


# -- Redis: decisions, the queue ----------------------------------------------------------------


@contextlib.contextmanager
def redis_client(stack: LocalStack) -> Iterator[redis.Redis]:
    client = stack.redis()
    try:
        yield client
    finally:
        client.close()


def decisions_for(stack: LocalStack, file_id: str) -> list[Decision]:
    """The file's decisions, newest first."""
    with redis_client(stack) as client:
        return decisions.for_file(client, file_id)


def final(decision: Decision) -> bool:
    return decision.outcome != "waiting"


def final_decision(stack: LocalStack, file_id: str, after: float = 0.0) -> Decision | None:
    """The newest decision for the file that is not "waiting", recorded after ``after``."""
    return next((d for d in decisions_for(stack, file_id) if final(d) and d.at > after), None)


def wait_decided(stack: LocalStack, *file_ids: str, after: float = 0.0, timeout: float = 60.0) -> dict[str, Decision]:
    """Until every file has a final decision recorded after ``after``; fails early if a worker died."""
    found: dict[str, Decision] = {}

    def decided() -> bool:
        for worker in stack.workers:
            if not worker.alive():
                raise RuntimeError(f"{worker.name} died:\n{worker.log()[-3000:]}")
        for file_id in file_ids:
            decision = final_decision(stack, file_id, after)
            if decision is None:
                return False
            found[file_id] = decision
        return True

    wait_until(decided, timeout, interval=0.1, what=f"final decisions for {len(file_ids)} file(s)")
    return found


def wait_quiet(stack: LocalStack, timeout: float = 60.0) -> None:
    """Until no job is queued, running or scheduled."""
    wait_until(stack.queue_idle, timeout, interval=0.1, what="the queue to drain")


def queue_length(stack: LocalStack) -> int:
    with redis_client(stack) as client:
        return Queue(stack.queue_name, connection=client).count


def upload_job_id(stack: LocalStack, file_id: str) -> str:
    return job_id_for(UPLOAD_COMPLETED, stack.state["account_id"], file_id)


# -- processes: workers and their work horses ---------------------------------------------------


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")"
    return int(stat.rsplit(")", 1)[1].split()[1])


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (RQ's work horse puts itself in a process group of its own,
    so signalling the worker's group does not reach it)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            parent = _parent_of(int(entry.name))
            if parent is not None:
                parents[int(entry.name)] = parent
    found: list[int] = []
    frontier = [pid]
    while frontier:
        current = frontier.pop()
        children = [child for child, parent in parents.items() if parent == current]
        found += children
        frontier += children
    return found


def busy_with(stack: LocalStack, file_ids: set[str]) -> dict[str, tuple[Child, str]]:
    """The worker processes (of ours) whose current job is about one of ``file_ids``:
    file id -> (the worker, the RQ job id)."""
    by_pid = {child.process.pid: child for child in stack.workers if child.alive()}
    found: dict[str, tuple[Child, str]] = {}
    with redis_client(stack) as client:
        for worker in Worker.all(connection=client, queue=Queue(stack.queue_name, connection=client)):
            job = worker.get_current_job()
            if job is None or worker.pid not in by_pid:
                continue
            file_id = job.args[1] if len(job.args) > 1 else None
            if isinstance(file_id, str) and file_id in file_ids:
                found[file_id] = (by_pid[worker.pid], job.id)
    return found


def busy_draining(stack: LocalStack) -> tuple[Child, str] | None:
    """The worker process (of ours) running a drain job, and the job's id."""
    by_pid = {child.process.pid: child for child in stack.workers if child.alive()}
    with redis_client(stack) as client:
        for worker in Worker.all(connection=client, queue=Queue(stack.queue_name, connection=client)):
            job = worker.get_current_job()
            if job is not None and job.id.startswith(DRAIN_JOB_PREFIX) and worker.pid in by_pid:
                return by_pid[worker.pid], job.id
    return None


def work_horses(child: Child) -> list[int]:
    """The worker's descendants that left its process group: the work horse."""
    group = os.getpgid(child.process.pid)
    horses = []
    for pid in descendants(child.process.pid):
        with contextlib.suppress(ProcessLookupError):
            if os.getpgid(pid) != group:
                horses.append(pid)
    return horses


def kill_hard(*children: Child) -> None:
    """SIGKILL each worker with everything it started (its scheduler and its work horse), as when
    a node dies: first stop them all, so that no monitor sees its horse die and reports the job."""
    targets: list[int] = []
    for child in children:
        targets += [child.process.pid, *descendants(child.process.pid)]
    for pid in targets:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGSTOP)
    for pid in targets:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for child in children:
        child.process.wait(10)


# -- a redis-server of the test's own -----------------------------------------------------------


@dataclass
class OwnRedis:
    """redis-server with AOF on (``appendfsync everysec``, as deployed), restartable on the same
    port and data directory."""

    data_dir: Path
    port: int = 0
    child: Child | None = None
    url: str = ""

    def start(self) -> OwnRedis:
        self.child, self.url = start_redis(self.port or None, appendonly=True, data_dir=self.data_dir)
        self.port = int(self.url.rsplit(":", 1)[1].split("/", 1)[0])
        return self

    def kill(self) -> None:
        """SIGKILL: a crash, with no chance to flush or fsync anything on the way out."""
        assert self.child is not None
        self.child.signal(signal.SIGKILL)
        self.child.process.wait(10)

    def stop(self) -> None:
        if self.child is not None:
            self.child.stop()

    def aof_bytes(self) -> bytes:
        return b"".join(path.read_bytes() for path in sorted(self.data_dir.glob("appendonlydir/*.aof")))


def refused(url: str) -> bool:
    """Nothing listens at the URL's host and port any more."""
    host, port = url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=0.5):
            return False
    except OSError:
        return True


# -- deliveries by hand -----------------------------------------------------------------------


def event_body(stack: LocalStack, file_id: str, event_type: str = UPLOAD_COMPLETED) -> bytes:
    state = stack.state
    payload = {
        "account": {"id": state["account_id"]},
        "project": {"id": state["project_id"]},
        "resource": {"id": file_id, "type": "file"},
        "type": event_type,
        "user": {"id": state.get("uploader_user_id", state.get("user_id", ""))},
        "workspace": {"id": state["workspace_id"]},
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def signed_headers(stack: LocalStack, body: bytes) -> dict[str, str]:
    timestamp = str(int(time.time()))
    return {
        "content-type": "application/json",
        "user-agent": "Frame.io V4 API",
        "x-frameio-request-timestamp": timestamp,
        "x-frameio-signature": sign(stack.secret, timestamp, body),
    }


class SlowDelivery:
    """A signed delivery over a raw socket, sent in two halves: the request is in flight between
    :meth:`send_head` and :meth:`finish`."""

    def __init__(self, stack: LocalStack, file_id: str) -> None:
        self.body = event_body(stack, file_id)
        host, port = stack.service_url.split("://", 1)[1].rsplit(":", 1)
        headers = {**signed_headers(stack, self.body), "host": f"{host}:{port}", "content-length": str(len(self.body))}
        self.head = "POST /webhooks/frameio HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.sock = socket.create_connection((host, int(port)), timeout=10)

    def send_head(self) -> None:
        """The request line, the headers and the first half of the body."""
        self.sock.sendall(self.head.encode() + b"\r\n" + self.body[: len(self.body) // 2])

    def server_has_read(self) -> bool:
        """The server has taken everything sent so far off its socket (/proc/net/tcp: its end of
        this connection has an empty receive queue), so the request is in its hands."""
        client_port = self.sock.getsockname()[1]
        server_port = self.sock.getpeername()[1]
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            local, remote, queues = fields[1], fields[2], fields[4]
            if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == client_port:
                return int(queues.split(":")[1], 16) == 0
        return False

    def finish(self) -> tuple[int, bytes]:
        """The rest of the body; returns the status and the raw answer."""
        self.sock.sendall(self.body[len(self.body) // 2 :])
        answer = b""
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            answer += chunk
            if b"\r\n\r\n" in answer:
                head, _, rest = answer.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    None,
                )
                if length is not None and len(rest) >= length:
                    break
        status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
        return status, answer

    def close(self) -> None:
        self.sock.close()


def deliver_by_hand(stack: LocalStack, file_id: str, event_type: str = UPLOAD_COMPLETED) -> int:
    """Deliver the event to the service as Frame.io would (signed); returns the status."""
    body = event_body(stack, file_id, event_type)
    response = httpx.post(
        f"{stack.service_url}/webhooks/frameio", content=body, headers=signed_headers(stack, body), timeout=5
    )
    return response.status_code


def story(stack: LocalStack, *file_ids: str) -> str:
    """For a failure message: every file's decisions (oldest first) and the sandbox's call counts."""
    lines = []
    for file_id in file_ids:
        for decision in reversed(decisions_for(stack, file_id)):
            lines.append(
                f"{decision.at:.3f} {decision.name or file_id}: {decision.outcome} ({decision.code}) {decision.reason}"
            )
    response = httpx.get(f"{stack.sandbox_url}/_sandbox/calls", timeout=5)
    lines += [f"{row['endpoint']} {row['status']}: {row['count']}" for row in response.json()["calls"]]
    return "\n".join(lines)
