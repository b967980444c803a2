"""No secret ever leaves the process that holds it: not in a log line, a job, Redis, or an answer.

One run of the real processes (``service.launcher.LocalStack``: redis-server with a password,
the sandbox, ``autostack serve`` and an ``autostack worker``) configured with distinctive values
for every secret autostack is given: the Frame.io token (set as the sandbox's token), the webhook
secret (issued by the sandbox when the webhook is registered), an IMS client secret, and the Redis
password in ``REDIS_URL``. The run stacks uploads, takes hostile and malformed deliveries, and meets
Frame.io 401, 403 and 500 answers (including a job that gives up into RQ's failed registry). Then
every place a secret could end up is searched: each child's log, every Redis key of every type
(compressed RQ payloads decompressed), the job arguments, meta and results, the decision log, the
failed registry's exc_info, the HTTP answers, and ``autostack status``. The settings object's repr
and the configuration errors are checked without processes.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import pickle
import subprocess
import time
import traceback
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from rq import Queue
from rq.job import Job

from service.app import create_app
from service.launcher import LocalStack
from service.processes import Child, autostack_argv, start_redis, wait_until
from service.webhooks import WebhookContext
from tests.e2e.signin import login
from workers import decisions
from workers.ingest.jobs import handle_file_event
from workers.runtime import Runtime
from workers.settings import ConfigError, Settings, load_settings

TOKEN = f"fio-tok-{uuid.uuid4().hex}"
CLIENT_ID = "leakcheck-client"
CLIENT_SECRET = f"ims-sec-{uuid.uuid4().hex}"
REDIS_PASSWORD = f"redis-pw-{uuid.uuid4().hex}"
QUEUE = "autostack"


def needles(secret: str) -> list[bytes]:
    """What a leak of ``secret`` would look like: whole, any 16-character piece of it (a truncated
    or partly masked echo), base64 (a Basic header), hex."""
    raw = secret.encode()
    pieces = {raw[start : start + 16] for start in range(0, max(1, len(raw) - 15), 4)}
    return sorted({raw, *pieces, base64.b64encode(raw), raw.hex().encode()})


def search(secrets: dict[str, str], blobs: dict[str, bytes]) -> list[str]:
    """``where: secret name`` for every blob that holds any needle of any secret."""
    found = []
    for where, blob in blobs.items():
        for name, secret in secrets.items():
            if any(needle in blob for needle in needles(secret)):
                found.append(f"{where}: {name}")
    return found


def expand(blob: bytes) -> bytes:
    """The blob, and its zlib-decompressed form when it is compressed (RQ's job data, exc_info)."""
    try:
        return blob + b"\n" + zlib.decompress(blob)
    except zlib.error:
        return blob


def _values(client: Any, key: bytes, kind: str) -> list[bytes]:
    """Every value of ``key`` (``client`` is a bytes-answering redis.Redis; its stubs are loose)."""
    if kind == "string":
        return [client.get(key) or b""]
    if kind == "hash":
        return [name + b"=" + expand(value) for name, value in client.hgetall(key).items()]
    if kind == "list":
        return list(client.lrange(key, 0, -1))
    if kind == "set":
        return sorted(client.smembers(key))
    if kind == "zset":
        return [member for member, _ in client.zrange(key, 0, -1, withscores=True)]
    if kind == "stream":
        return [name + b"=" + expand(value) for _, entry in client.xrange(key) for name, value in entry.items()]
    raise AssertionError(f"a key of a type this test does not read: {key!r} is a {kind}")


def dump_redis(client: redis.Redis) -> dict[str, bytes]:
    """Every key with every value it holds, whatever its type."""
    out: dict[str, bytes] = {}
    raw: Any = client
    for key in raw.scan_iter(count=1000):
        kind = raw.type(key).decode()
        values = _values(client, key, kind)
        out[f"redis {kind} {key.decode(errors='replace')}"] = key + b"\n" + b"\n".join(expand(v) for v in values)
    return out


# -- the run -------------------------------------------------------------------------------------


@dataclass
class Evidence:
    mode: str
    secrets: dict[str, str]
    env: dict[str, str] = field(default_factory=dict)
    issued_tokens: list[str] = field(default_factory=list)
    ims_calls: int = 0
    logs: dict[str, bytes] = field(default_factory=dict)
    redis: dict[str, bytes] = field(default_factory=dict)
    jobs: dict[str, bytes] = field(default_factory=dict)
    failed: dict[str, bytes] = field(default_factory=dict)
    decisions: list[decisions.Decision] = field(default_factory=list)
    answers: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    status_output: bytes = b""
    scheduled: int = 0
    uploaded: list[str] = field(default_factory=list)


def start_redis_with_password(directory: Path) -> tuple[Child, str]:
    return start_redis(data_dir=directory, password=REDIS_PASSWORD)


def signed(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"x-frameio-request-timestamp": stamp, "x-frameio-signature": f"v0={digest}"}


def _fault(stack: LocalStack, status: int, count: int) -> None:
    # The drain finds a new upload in the folder listing the last drain left, else by show_file.
    for endpoint in ("list_folder_children", "show_file"):
        fault = {"endpoint": endpoint, "kind": "status", "status": status, "count": count}
        httpx.post(f"{stack.sandbox_url}/_sandbox/faults", json=fault, timeout=5).raise_for_status()


def _ims(stack: LocalStack, knobs: dict[str, object]) -> None:
    httpx.patch(f"{stack.sandbox_url}/_sandbox/ims", json=knobs, timeout=5).raise_for_status()


def _clear_faults(stack: LocalStack) -> None:
    httpx.delete(f"{stack.sandbox_url}/_sandbox/faults", timeout=5).raise_for_status()


def _decided(stack: LocalStack, file_id: str, *codes: str) -> bool:
    client = stack.redis()
    try:
        return any(decision.code in codes for decision in decisions.for_file(client, file_id))
    finally:
        client.close()


def _deliver_hostile(stack: LocalStack, evidence: Evidence) -> None:
    """Bad, odd and good deliveries straight at the service; every answer is kept."""
    state, secret = stack.state, stack.secret

    def event(file_id: str, kind: str = "file.upload.completed") -> bytes:
        payload = {
            "type": kind,
            "account": {"id": state["account_id"]},
            "workspace": {"id": state["workspace_id"]},
            "project": {"id": state["project_id"]},
            "resource": {"id": file_id, "type": "file"},
            "user": {"id": state["user_id"]},
        }
        return json.dumps(payload).encode()

    missing = f"missing-{uuid.uuid4().hex}"
    cases: dict[str, tuple[bytes, dict[str, str]]] = {
        "unsigned": (event(missing), {}),
        "wrong-secret": (event(missing), signed("not-the-secret", event(missing))),
        "token-as-secret": (event(missing), signed(TOKEN, event(missing))),
        "stale": (event(missing), signed(secret, event(missing), int(time.time()) - 301)),
        "signature-twice": (event(missing), {}),
        "malformed": (b'{"type": "file.ready", "account": ', signed(secret, b'{"type": "file.ready", "account": ')),
        "no-ids": (b'{"type": "file.ready"}', signed(secret, b'{"type": "file.ready"}')),
        "too-large": (b" " * (300 * 1024), signed(secret, b" " * (300 * 1024))),
        "ignored-type": (event(missing, "file.deleted"), signed(secret, event(missing, "file.deleted"))),
        "duplicate": (event(evidence.uploaded[0]), signed(secret, event(evidence.uploaded[0]))),
        "accepted-unknown-file": (event(missing), signed(secret, event(missing))),
    }
    with httpx.Client(base_url=stack.service_url, timeout=10) as client:
        for name, (body, headers) in cases.items():
            request_headers: list[tuple[str, str]] = [("content-type", "application/json"), *headers.items()]
            if name == "signature-twice":
                good = signed(secret, body)
                request_headers += [*good.items(), ("x-frameio-signature", good["x-frameio-signature"])]
            answer = client.post("/webhooks/frameio", content=body, headers=request_headers)
            evidence.answers[name] = (answer.status_code, answer.content)
        for path in ("/healthz", "/readyz", "/nowhere"):
            answer = client.get(path)
            evidence.answers[f"GET {path}"] = (answer.status_code, answer.content)
    wait_until(lambda: _decided(stack, missing, "http-404"), 30, what="the unknown file's job to fail with 404")


def _refused(stack: LocalStack, evidence: Evidence, folder: str, status: int) -> None:
    """Frame.io answers ``status`` to every listing and show_file until the upload's job has decided."""
    _fault(stack, status, 50)
    codes = [f"http-{status}"]
    if evidence.mode == "ims" and status == 401:
        # The worker drops the refused token and asks IMS for a new one, which IMS refuses (400).
        _ims(stack, {"fail_next": [400, 400, 400]})
        codes.append("http-400")
    file_id = stack.upload(folder, f"leak_sh0{status}_comp_v001.mov")["id"]
    evidence.uploaded.append(file_id)
    wait_until(functools.partial(_decided, stack, file_id, *codes), 30, what=f"a {status} decision")
    _clear_faults(stack)


def _drive(stack: LocalStack, evidence: Evidence) -> None:
    folder = stack.create_folder("leak-check")
    for name in ("leak_sh010_comp_v001.mov", "leak_sh010_comp_v002.mov", "A004C010_20230610_R1JL.mov"):
        evidence.uploaded.append(stack.upload(folder, name)["id"])
    stack.wait_idle(60, expected_deliveries=2 * len(stack.uploaded))

    _refused(stack, evidence, folder, 403)  # a permanent failure, recorded as a decision
    stack.wait_idle(60, expected_deliveries=2 * len(stack.uploaded))

    _deliver_hostile(stack, evidence)
    stack.wait_idle(60, expected_deliveries=2 * len(stack.uploaded))

    # Frame.io's menu: answers and the queued preview job's arguments are searched too.
    for event, resource, kind, values in (
        ("autostack.why", evidence.uploaded[0], "file", []),
        ("autostack.stack", folder, "folder", [{"where": "folder", "mode": "preview"}]),
    ):
        record = stack.click(event, resource, kind, values=values)
        evidence.answers[f"action {event}"] = (200, json.dumps(record).encode())
    stack.wait_idle(60, expected_deliveries=2 * len(stack.uploaded))

    # A 500: the job hands itself back to the scheduler (a retry 30 s or more later).
    client = stack.redis()
    try:
        queue = Queue(QUEUE, connection=client)
        _fault(stack, 500, 1)
        file_id = stack.upload(folder, "leak_sh500_comp_v001.mov")["id"]
        evidence.uploaded.append(file_id)
        wait_until(lambda: queue.scheduled_job_registry.count >= 1, 30, what="a retry after a 500")
        evidence.scheduled = queue.scheduled_job_registry.count

        # The eighth 500 in a row: the job gives up into RQ's failed registry. The job is queued as
        # workers/jobs.py queues a retry (no RQ Retry), seven failures already counted.
        _fault(stack, 500, 5)
        queue.enqueue(
            handle_file_event,
            stack.state["account_id"],
            evidence.uploaded[0],
            "file.ready",
            0,
            7,
            job_id=f"leakcheck-gives-up-{uuid.uuid4().hex[:8]}",
            failure_ttl=3600,
        )
        wait_until(lambda: queue.failed_job_registry.count >= 1, 30, what="a job in the failed registry")
        _clear_faults(stack)
    finally:
        client.close()

    # Last, since with IMS credentials it leaves the worker without a token for a while: Frame.io
    # refuses the token.
    _note_issued_tokens(stack, evidence)
    _refused(stack, evidence, folder, 401)


def _note_issued_tokens(stack: LocalStack, evidence: Evidence) -> None:
    """The IMS access tokens autostack keeps in Redis right now (secrets too, from then on)."""
    client: Any = stack.redis()
    try:
        for key in [*client.scan_iter(match="autostack:ims:token:*"), *client.scan_iter(match="autostack:ims:user:*")]:
            if client.type(key) != b"hash":
                continue
            for token in (client.hget(key, "token"), client.hget(key, "refresh_token")):
                if token and token.decode() not in evidence.issued_tokens:
                    evidence.issued_tokens.append(token.decode())
    finally:
        client.close()


def _collect(stack: LocalStack, evidence: Evidence) -> None:
    _note_issued_tokens(stack, evidence)
    client = stack.redis()
    try:
        evidence.redis = dump_redis(client)
        queue = Queue(QUEUE, connection=client)
        ids = {key.decode().split(":")[2] for key in client.scan_iter(match="rq:job:*")}
        for job in Job.fetch_many(sorted(ids), connection=client):
            if job is None:
                continue
            results = [f"{r.type} {r.exc_string!r} {r.return_value!r}" for r in job.results()]
            text = f"{job.args!r} {job.kwargs!r} {job.meta!r} {job.description} {results}"
            evidence.jobs[job.id] = text.encode()
        for job_id in queue.failed_job_registry.get_job_ids():
            job = Job.fetch(job_id, connection=client)
            latest = job.latest_result()
            evidence.failed[job_id] = (latest.exc_string or "" if latest else "").encode()
        evidence.decisions = decisions.latest(client, 10_000)
    finally:
        client.close()
    env = {**stack.env(), **evidence.env}
    done = subprocess.run(
        autostack_argv("status", "--last", "1000"), env=env, capture_output=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    evidence.status_output = done.stdout + done.stderr


def _start(mode: str, workdir: Path, redis_url: str) -> tuple[LocalStack, dict[str, str]]:
    """A LocalStack whose worker gets its Frame.io token as configured (``static-token``: the
    sandbox's token as FRAMEIO_TOKEN, client credentials set too but unused; ``ims``: only client
    credentials, exchanged at the sandbox's IMS stand-in)."""
    env = {
        "FRAMEIO_CLIENT_ID": CLIENT_ID,
        "FRAMEIO_CLIENT_SECRET": CLIENT_SECRET,
        "AUTOSTACK_COALESCE_WINDOW_S": "0.5",
    }
    if mode != "static-token":
        env["FRAMEIO_TOKEN"] = ""
    knobs: dict[str, object] = {"token": TOKEN, "transcode_delay_s": 0.2}
    if mode == "user":  # short tokens, rotated: many refresh tokens pass through the run
        knobs |= {"oauth_web_client_id": CLIENT_ID, "oauth_web_client_secret": CLIENT_SECRET}
        knobs |= {"user_access_token_lifetime_s": 1.0, "refresh_token_rotation": "rotate"}
    stack = LocalStack.start(
        workers=1 if mode == "static-token" else 0, redis_url=redis_url, workdir=workdir, sandbox_config=knobs, env=env
    )
    try:
        if mode == "ims":
            _ims(stack, {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
        if mode != "static-token":
            env["FRAMEIO_IMS_URL"] = stack.sandbox_url
        if mode == "user":
            env |= {"FRAMEIO_AUTH": "user", "FRAMEIO_REDIRECT_URI": "http://127.0.0.1:9/callback"}
            (workdir / "login.log").write_bytes(login(stack, env))
        if mode != "static-token":
            stack.add_worker(env)
    except BaseException:
        stack.stop()
        raise
    return stack, env


@pytest.fixture(scope="module", params=["static-token", "ims", "user"])
def evidence(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Evidence]:
    mode: str = request.param
    workdir = tmp_path_factory.mktemp(f"leak-{mode}")
    redis_child, redis_url = start_redis_with_password(workdir)
    stack: LocalStack | None = None
    try:
        stack, env = _start(mode, workdir, redis_url)
        assert stack.state["token"] == TOKEN and stack.secret
        found = Evidence(
            mode,
            secrets={
                "FRAMEIO_TOKEN": TOKEN,
                "FRAMEIO_WEBHOOK_SECRETS": stack.secret,
                **{f"action secret {n}": secret for n, secret in enumerate(stack.action_secrets, 1)},
                "FRAMEIO_CLIENT_SECRET": CLIENT_SECRET,
                "REDIS_URL password": REDIS_PASSWORD,
            },
            env=env,
        )
        _drive(stack, found)
        _collect(stack, found)
        calls = httpx.get(f"{stack.sandbox_url}/_sandbox/calls", timeout=5).json()["calls"]
        found.ims_calls = sum(call["count"] for call in calls if call["endpoint"] == "ims_token")
    finally:
        if stack is not None:
            stack.stop()
        redis_child.stop()
    # After every process has stopped, so shutdown messages are searched too.
    found.logs = {path.name: path.read_bytes() for path in sorted(workdir.glob("*.log"))}
    yield found


# -- the searches --------------------------------------------------------------------------------

IMS_TOKEN_KEYS = ("redis hash autostack:ims:token:", "redis hash autostack:ims:user:")


def with_issued_tokens(evidence: Evidence) -> dict[str, str]:
    """The configured secrets and every access token IMS issued during the run."""
    issued = {f"IMS access token {n}": token for n, token in enumerate(evidence.issued_tokens, 1)}
    return {**evidence.secrets, **issued}


@pytest.mark.e2e
class TestARunOfTheRealProcesses:
    def test_the_run_went_through_every_path_it_claims(self, evidence: Evidence) -> None:
        """The searches below mean something only if there was something to search."""
        codes = {decision.code for decision in evidence.decisions}
        outcomes = {decision.outcome for decision in evidence.decisions}
        assert {"http-403", "http-404", "retry"} <= codes, codes
        assert codes & {"http-401", "http-400"}, codes
        if evidence.mode == "ims":  # the secret was really sent, and a token really issued and stored
            assert evidence.ims_calls >= 2 and evidence.issued_tokens
        elif evidence.mode == "user":  # signed in, then refreshed and rotated; login's output kept
            # (how many refreshes fit in the run depends on the machine: the code exchange and two)
            assert evidence.ims_calls >= 3 and len(evidence.issued_tokens) >= 3 and "login.log" in evidence.logs
        else:
            assert evidence.ims_calls == 0 and not evidence.issued_tokens
        assert outcomes & {"stacked", "added"}, outcomes
        assert evidence.scheduled >= 1
        assert len(evidence.failed) == 1
        assert "gave up after 8 failures" in next(iter(evidence.failed.values())).decode()
        statuses = {name: status for name, (status, _) in evidence.answers.items()}
        assert statuses["unsigned"] == statuses["wrong-secret"] == statuses["token-as-secret"] == 401
        assert statuses["stale"] == statuses["signature-twice"] == 401
        assert statuses["malformed"] == statuses["no-ids"] == 400
        assert (statuses["too-large"], statuses["ignored-type"], statuses["duplicate"]) == (413, 200, 200)
        assert statuses["accepted-unknown-file"] == 202
        assert {"service.log", "sandbox.log", "worker-1.log"} <= set(evidence.logs)
        assert b"gave up after 8 failures" in evidence.logs["worker-1.log"]
        # The decompression works: what RQ's compressed job data must hold is found in it: the file
        # of the job this test queued itself, and the file handed to a job of its own after a 500
        # (a drain job's argument is the account; the inbox holds the other files).
        job_data = b"".join(blob for where, blob in evidence.redis.items() if where.startswith("redis hash rq:job:"))
        assert evidence.uploaded[0].encode() in job_data
        after_500 = next(d.file_id for d in evidence.decisions if d.code == "retry" and "500" in d.reason)
        assert after_500.encode() in job_data

    def test_no_log_file_holds_a_secret(self, evidence: Evidence) -> None:
        blobs = {f"log {name}": blob for name, blob in evidence.logs.items()}
        assert search(with_issued_tokens(evidence), blobs) == []

    def test_no_redis_key_or_value_holds_a_secret(self, evidence: Evidence) -> None:
        """Only IMS-issued tokens are kept in Redis, by design (one sign-in for every worker): the
        access token, and a user sign-in's refresh token, each only in its own hash; no configured
        secret is anywhere."""
        assert len(evidence.redis) > 10
        assert search(evidence.secrets, evidence.redis) == []
        elsewhere = {where: blob for where, blob in evidence.redis.items() if not where.startswith(IMS_TOKEN_KEYS)}
        assert search(with_issued_tokens(evidence), elsewhere) == []

    def test_no_job_argument_meta_or_result_holds_a_secret(self, evidence: Evidence) -> None:
        assert evidence.jobs
        blobs = {f"job {job_id}": blob for job_id, blob in evidence.jobs.items()}
        assert search(with_issued_tokens(evidence), blobs) == []

    def test_the_failed_registry_exc_info_holds_no_secret(self, evidence: Evidence) -> None:
        blobs = {f"failed {job_id}": blob for job_id, blob in evidence.failed.items()}
        assert search(with_issued_tokens(evidence), blobs) == []

    def test_the_decision_log_holds_no_secret(self, evidence: Evidence) -> None:
        assert evidence.decisions
        blobs = {f"decision {i}": d.to_json().encode() for i, d in enumerate(evidence.decisions)}
        assert search(with_issued_tokens(evidence), blobs) == []

    def test_no_http_answer_holds_a_secret(self, evidence: Evidence) -> None:
        blobs = {f"answer {name}": body for name, (_, body) in evidence.answers.items()}
        assert search(with_issued_tokens(evidence), blobs) == []

    def test_autostack_status_shows_no_secret(self, evidence: Evidence) -> None:
        assert b"decisions" in evidence.status_output
        assert search(with_issued_tokens(evidence), {"autostack status": evidence.status_output}) == []


def test_the_search_finds_a_planted_secret(redis_client: redis.Redis) -> None:
    """The searches are only as good as their eyes: plant each form of a leak and find it."""
    secrets = {"token": TOKEN}
    assert search(secrets, {"whole": f"Bearer {TOKEN}".encode()}) == ["whole: token"]
    assert search(secrets, {"cut": f"token={TOKEN[:20]}...".encode()}) == ["cut: token"]
    assert search(secrets, {"basic": base64.b64encode(f"{TOKEN}".encode())}) == ["basic: token"]
    assert search(secrets, {"clean": b"Bearer **********"}) == []
    redis_client.hset("planted:job", "data", zlib.compress(pickle.dumps(("acc", TOKEN))))
    redis_client.xadd("planted:stream", {"d": json.dumps({"reason": f"401 for {TOKEN}"})})
    redis_client.rpush("planted:list", TOKEN[4:30])
    redis_client.zadd("planted:zset", {TOKEN: 1.0})
    found = search(secrets, dump_redis(redis_client))
    assert sorted(found) == [
        "redis hash planted:job: token",
        "redis list planted:list: token",
        "redis stream planted:stream: token",
        "redis zset planted:zset: token",
    ]


# -- without processes ---------------------------------------------------------------------------

SECRETS = {
    "FRAMEIO_TOKEN": TOKEN,
    "FRAMEIO_CLIENT_SECRET": CLIENT_SECRET,
    "FRAMEIO_WEBHOOK_SECRETS": f"whsec-{uuid.uuid4().hex}",
    "FRAMEIO_ACTION_SECRETS": f"actsec-{uuid.uuid4().hex}",
    "REDIS_URL password": REDIS_PASSWORD,
}
OLD_WEBHOOK_SECRET = f"whsec-old-{uuid.uuid4().hex}"


def full_environment() -> dict[str, str]:
    return {
        "REDIS_URL": f"redis://:{REDIS_PASSWORD}@127.0.0.1:9/0",
        "FRAMEIO_TOKEN": TOKEN,
        "FRAMEIO_CLIENT_ID": CLIENT_ID,
        "FRAMEIO_CLIENT_SECRET": CLIENT_SECRET,
        "FRAMEIO_WEBHOOK_SECRETS": f"{SECRETS['FRAMEIO_WEBHOOK_SECRETS']},{OLD_WEBHOOK_SECRET}",
        "FRAMEIO_ACTION_SECRETS": SECRETS["FRAMEIO_ACTION_SECRETS"],
    }


def test_the_settings_object_never_shows_a_secret() -> None:
    settings = load_settings(full_environment())
    assert settings.frameio_token is not None and settings.frameio_token.get_secret_value() == TOKEN
    secrets = {**SECRETS, "old webhook secret": OLD_WEBHOOK_SECRET}
    shown = {
        "repr": repr(settings).encode(),
        "str": str(settings).encode(),
        "format": f"{settings}".encode(),
        "model_dump": repr(settings.model_dump()).encode(),
        "model_dump_json": settings.model_dump_json().encode(),
        "runtime repr": repr(Runtime(settings)).encode(),
    }
    found = search({k: v for k, v in secrets.items() if k != "REDIS_URL password"}, shown)
    assert found == []


def test_the_settings_object_never_shows_the_redis_password() -> None:
    settings = load_settings(full_environment())
    assert REDIS_PASSWORD not in repr(settings)


def test_the_webhook_context_never_shows_a_secret(redis_url: str) -> None:
    settings = load_settings({**full_environment(), "REDIS_URL": redis_url})
    app = create_app(settings)
    context: WebhookContext = app.state.webhooks
    assert context.secrets[0] == SECRETS["FRAMEIO_WEBHOOK_SECRETS"]
    shown = {"context repr": repr(context.settings).encode() + repr(context.queue).encode()}
    assert search({k: v for k, v in SECRETS.items() if k != "REDIS_URL password"}, shown) == []


MALFORMED: dict[str, dict[str, str]] = {
    "client secret without its id": {"FRAMEIO_CLIENT_SECRET": CLIENT_SECRET},
    "client secret with an empty id": {"FRAMEIO_CLIENT_ID": " ", "FRAMEIO_CLIENT_SECRET": CLIENT_SECRET},
    "redis url with a password and a bad scheme": {"REDIS_URL": f"http://:{REDIS_PASSWORD}@127.0.0.1:6379/0"},
    "base url with credentials and a bad scheme": {"FRAMEIO_BASE_URL": f"ftp://user:{TOKEN}@api.frame.io"},
    "ims url with credentials and a bad scheme": {"FRAMEIO_IMS_URL": f"ims:{CLIENT_SECRET}"},
    "secrets next to a bad number": {
        "FRAMEIO_TOKEN": TOKEN,
        "FRAMEIO_WEBHOOK_SECRETS": SECRETS["FRAMEIO_WEBHOOK_SECRETS"],
        "AUTOSTACK_MAX_BODY_BYTES": TOKEN,
        "FRAMEIO_TIMEOUT_S": CLIENT_SECRET,
    },
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_configuration_errors_never_echo_a_value(case: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(MALFORMED[case])
    # What is shown: the message, its repr, and the traceback as printed or logged.
    text = f"{caught.value} {caught.value!r} {''.join(traceback.format_exception(caught.value))}"
    assert search(SECRETS, {case: text.encode()}) == []


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_the_command_line_reports_a_malformed_variable_without_its_value(case: str) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("FRAMEIO_", "AUTOSTACK_"))}
    env |= {"REDIS_URL": "redis://127.0.0.1:9/0", "FRAMEIO_WEBHOOK_SECRETS": "x", **MALFORMED[case]}
    done = subprocess.run(autostack_argv("status"), env=env, capture_output=True, timeout=60, check=False)
    assert done.returncode == 2, done
    assert b"configuration error" in done.stderr
    assert search(SECRETS, {case: done.stdout + done.stderr}) == []


def test_a_missing_webhook_secret_is_a_config_error_that_names_the_variable() -> None:
    settings: Settings = load_settings({"FRAMEIO_TOKEN": TOKEN, "FRAMEIO_WEBHOOK_SECRETS": " , "})
    with pytest.raises(ConfigError, match="FRAMEIO_WEBHOOK_SECRETS") as caught:
        create_app(settings)
    assert search(SECRETS, {"error": str(caught.value).encode()}) == []
