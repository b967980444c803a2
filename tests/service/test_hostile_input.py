"""Hostile input at ``POST /webhooks/frameio``: fuzzed headers and bodies, replays, oversized and
chunked bodies, secret rotation, repeated or foreign-scheme signature headers.

Each case runs against the real app twice where it matters: in-process (Starlette's TestClient)
and over a socket against ``autostack serve`` (uvicorn as a child process), written with raw
``socket`` so that chunked framing, repeated headers and header case reach the server as sent.
The invariant behind every assertion: nothing reaches Redis (no job, no dedupe key, no key at all)
unless the delivery carries a valid signature, and no input earns a 5xx.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import http.client
import json
import os
import socket
import string
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import event as observe
from hypothesis import strategies as st
from starlette.testclient import TestClient

from service.app import create_app
from service.processes import Child, autostack_argv, free_port, spawn, wait_http
from workers.settings import DEFAULT_EVENT_TYPES, load_settings

NEW_SECRET = "whsec-hostile-new-7f3a"
OLD_SECRET = "whsec-hostile-old-91c2"
SMALL_LIMIT = 1024
DEFAULT_LIMIT = 256 * 1024
PATH = "/webhooks/frameio"
QUEUE = "autostack"
TS_HEADER = "x-frameio-request-timestamp"
SIG_HEADER = "x-frameio-signature"

Headers = list[tuple[str, str]]


# -- requests ----------------------------------------------------------------------------------


def signature(body: bytes, secret: str = NEW_SECRET, timestamp: str | None = None) -> tuple[str, str]:
    """(timestamp, "v0=<hex>") for ``body``; the timestamp is now unless given."""
    stamp = str(int(time.time())) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    return stamp, f"v0={digest}"


def signed(body: bytes, secret: str = NEW_SECRET, timestamp: str | None = None) -> Headers:
    stamp, sig = signature(body, secret, timestamp)
    return [(TS_HEADER, stamp), (SIG_HEADER, sig), ("content-type", "application/json")]


def event(file_id: str | None = None, kind: str = "file.upload.completed") -> bytes:
    payload = {
        "account": {"id": "acc-hostile"},
        "project": {"id": "proj"},
        "resource": {"id": file_id or f"file-{uuid.uuid4().hex}", "type": "file"},
        "type": kind,
        "user": {"id": "user"},
        "workspace": {"id": "ws"},
    }
    return json.dumps(payload).encode()


def padded_event(size: int) -> bytes:
    """A valid event of exactly ``size`` bytes (JSON allows trailing whitespace)."""
    body = event()
    assert len(body) <= size
    return body + b" " * (size - len(body))


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Poster(Protocol):
    name: str

    def post(self, body: bytes, headers: Headers, *, chunked: bool = False) -> Answer: ...


class AsgiPoster:
    """The app in-process, through Starlette's TestClient (httpx2)."""

    name = "asgi"

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def post(self, body: bytes, headers: Headers, *, chunked: bool = False) -> Answer:
        raw = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]
        content: bytes | Iterator[bytes] = _pieces(body, 4096) if chunked else body
        answer = self.client.post(PATH, content=content, headers=raw)
        return Answer(answer.status_code, answer.content)


def _pieces(body: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def chunked_encoding(body: bytes, sizes: Iterable[int] = (4096,)) -> bytes:
    """``body`` in HTTP/1.1 chunked transfer coding; chunk sizes cycle through ``sizes``."""
    out = bytearray()
    cycle = list(sizes) or [4096]
    start, turn = 0, 0
    while start < len(body):
        piece = body[start : start + max(1, cycle[turn % len(cycle)])]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
        start, turn = start + len(piece), turn + 1
    return bytes(out + b"0\r\n\r\n")


def raw_exchange(port: int, request: bytes, timeout: float = 10.0) -> Answer:
    """Send ``request`` bytes as they are and read one HTTP answer.

    The request is written from a second thread while this one reads, so an early answer (a 413
    before the body is read) is read before the server closes the connection on unread data."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:

        def send() -> None:
            with contextlib.suppress(OSError):  # the server may answer early and close
                sock.sendall(request)

        sender = threading.Thread(target=send, name="raw-sender")
        sender.start()
        response = http.client.HTTPResponse(sock)
        try:
            response.begin()
            data = response.read()
        finally:
            response.close()
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # unblocks a sender the server stopped reading
            sender.join(timeout)
        assert not sender.is_alive(), "the request writer did not finish"
        return Answer(response.status, data)


def raw_request(port: int, body: bytes, headers: Headers, *, chunked: bool = False) -> bytes:
    lines = [f"POST {PATH} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers]
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + (chunked_encoding(body) if chunked else body)


class SocketPoster:
    """``autostack serve`` over a raw TCP socket."""

    name = "uvicorn"

    def __init__(self, port: int) -> None:
        self.port = port

    def post(self, body: bytes, headers: Headers, *, chunked: bool = False) -> Answer:
        return raw_exchange(self.port, raw_request(self.port, body, headers, chunked=chunked))


# -- Redis footprint -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Footprint:
    queued: int
    dedupe_keys: frozenset[bytes]
    keys: frozenset[bytes]


def footprint(client: redis.Redis) -> Footprint:
    """``queued``: deliveries waiting in the account inboxes (a drain job is queued per account)."""
    inboxes = list(client.scan_iter(match="autostack:inbox:*", count=1000))
    return Footprint(
        sum(int(client.zcard(key)) for key in inboxes),
        frozenset(client.scan_iter(match="autostack:delivery:*", count=1000)),
        frozenset(client.scan_iter(count=1000)),
    )


def assert_nothing_queued(before: Footprint, client: redis.Redis) -> None:
    after = footprint(client)
    assert after.queued == before.queued, "a refused delivery changed the queue"
    assert after.dedupe_keys == before.dedupe_keys, "a refused delivery left a dedupe key"
    assert after.keys == before.keys, f"a refused delivery wrote to Redis: {sorted(after.keys - before.keys)}"


def assert_queued_one(before: Footprint, client: redis.Redis) -> None:
    after = footprint(client)
    assert after.queued == before.queued + 1
    assert len(after.dedupe_keys - before.dedupe_keys) == 1


# -- the app and the servers ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def store(redis_url: str) -> Iterator[redis.Redis]:
    """The session's redis-server, emptied once for this module; tests compare footprints."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    try:
        yield client
    finally:
        client.close()


def app_client(redis_url: str, secrets: str, limit: int | None = None, **kwargs: Any) -> TestClient:
    env = {"REDIS_URL": redis_url, "FRAMEIO_WEBHOOK_SECRETS": secrets}
    if limit is not None:
        env["AUTOSTACK_MAX_BODY_BYTES"] = str(limit)
    return TestClient(create_app(load_settings(env)), **kwargs)


@pytest.fixture(scope="module")
def asgi_default(redis_url: str, store: redis.Redis) -> Iterator[AsgiPoster]:
    with app_client(redis_url, f"{NEW_SECRET},{OLD_SECRET}") as client:
        yield AsgiPoster(client)


@pytest.fixture(scope="module")
def asgi_small(redis_url: str, store: redis.Redis) -> Iterator[AsgiPoster]:
    with app_client(redis_url, f"{NEW_SECRET},{OLD_SECRET}", SMALL_LIMIT) as client:
        yield AsgiPoster(client)


def start_service(redis_url: str, log_dir: Path, secrets: str, limit: int | None = None) -> tuple[Child, int]:
    port = free_port()
    env = {**os.environ, "REDIS_URL": redis_url, "FRAMEIO_WEBHOOK_SECRETS": secrets}
    if limit is not None:
        env["AUTOSTACK_MAX_BODY_BYTES"] = str(limit)
    child = spawn(
        f"service-{port}", autostack_argv("serve", "--port", str(port), "--log-level", "warning"), env, log_dir
    )
    try:
        wait_http(child, f"http://127.0.0.1:{port}/healthz")
    except BaseException:
        child.stop()
        raise
    return child, port


@contextlib.contextmanager
def running_service(
    redis_url: str, log_dir: Path, secrets: str, limit: int | None = None
) -> Iterator[tuple[Child, int]]:
    """``autostack serve``; on exit, stop it and insist that it logged no exception."""
    child, port = start_service(redis_url, log_dir, secrets, limit)
    try:
        yield child, port
    finally:
        child.stop()
    log = child.log()
    assert "Traceback" not in log and "ERROR" not in log, f"{child.name} logged an error:\n{log[-3000:]}"


@pytest.fixture(scope="module")
def uvicorn_default(redis_url: str, store: redis.Redis, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with running_service(redis_url, tmp_path_factory.mktemp("svc"), f"{NEW_SECRET},{OLD_SECRET}") as (_, port):
        yield port


@pytest.fixture(scope="module")
def uvicorn_small(redis_url: str, store: redis.Redis, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    secrets = f"{NEW_SECRET},{OLD_SECRET}"
    with running_service(redis_url, tmp_path_factory.mktemp("svc"), secrets, SMALL_LIMIT) as (_, port):
        yield port


@pytest.fixture(params=["asgi", "uvicorn"])
def poster(request: pytest.FixtureRequest) -> Poster:
    """The app with the default body limit, in-process and over a socket."""
    if request.param == "asgi":
        asgi: AsgiPoster = request.getfixturevalue("asgi_default")
        return asgi
    return SocketPoster(request.getfixturevalue("uvicorn_default"))


@pytest.fixture(params=["asgi", "uvicorn"])
def small_poster(request: pytest.FixtureRequest) -> Poster:
    """The app with a 1 KiB body limit, in-process and over a socket."""
    if request.param == "asgi":
        asgi: AsgiPoster = request.getfixturevalue("asgi_small")
        return asgi
    return SocketPoster(request.getfixturevalue("uvicorn_small"))


# -- strategies ----------------------------------------------------------------------------------

TOKEN = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"
HEADER_TEXT = st.text(st.characters(min_codepoint=0x21, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=80)
# Header values as a client may send them: visible latin-1 and inner spaces (no leading or
# trailing whitespace, which HTTP strips, and no control characters, which it forbids).
HEADER_VALUES = st.one_of(
    HEADER_TEXT,
    st.builds(lambda a, b: f"{a} {b}".strip(), HEADER_TEXT, HEADER_TEXT),
)
FRAMING = {"content-length", "transfer-encoding", "host", "connection", "expect", "te", "trailer", "upgrade"}
OTHER_NAMES = st.one_of(
    st.sampled_from(["content-type", "authorization", "user-agent", "x-forwarded-for", "x-frameio-event", "cookie"]),
    st.text(TOKEN, min_size=1, max_size=24).filter(lambda name: name.lower() not in FRAMING),
)
SPELLINGS = {
    TS_HEADER: [TS_HEADER, "X-Frameio-Request-Timestamp", "X-FRAMEIO-REQUEST-TIMESTAMP"],
    SIG_HEADER: [SIG_HEADER, "X-Frameio-Signature", "X-FRAMEIO-SIGNATURE"],
}
FRAMEIO_NAMES = st.sampled_from([*SPELLINGS[TS_HEADER], *SPELLINGS[SIG_HEADER]])

NON_DIGITS = st.characters(min_codepoint=0x21, max_codepoint=0xFF, exclude_characters="0123456789\x7f")
BAD_TIMESTAMPS = st.one_of(
    st.sampled_from(["-1", "1.5e9", "0x6553f100", "\u00b9\u00b2\u00b3", "9" * 13, "nan", "+1700000000"]),
    # Digits with at least one other character among them: never a plain number.
    st.builds("{}{}{}".format, st.text(string.digits, max_size=10), NON_DIGITS, st.text(string.digits, max_size=10)),
)

JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
IDS = st.one_of(
    st.uuids().map(str),
    st.text(min_size=1, max_size=210),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=8),
    JSON_VALUES,
)


def _node(ids: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.fixed_dictionaries({"id": ids}), st.fixed_dictionaries({"id": ids, "type": JSON_VALUES}), JSON_VALUES
    )


GOOD_IDS = st.one_of(
    st.uuids().map(str),
    st.text(st.characters(categories=["L", "N", "P", "S"]), min_size=1, max_size=200),
)
# The right shape with the right types: these verify, parse and (mostly) queue.
WELL_FORMED = st.fixed_dictionaries(
    {
        "type": st.sampled_from(DEFAULT_EVENT_TYPES),
        "account": st.fixed_dictionaries({"id": GOOD_IDS}),
        "resource": st.fixed_dictionaries({"id": GOOD_IDS, "type": st.just("file")}),
    },
    optional={
        "project": st.fixed_dictionaries({"id": GOOD_IDS}),
        "workspace": st.fixed_dictionaries({"id": GOOD_IDS}),
        "user": st.fixed_dictionaries({"id": GOOD_IDS}),
        "extra": JSON_VALUES,
    },
)
# The right shape with any types at all.
SHAPED = st.fixed_dictionaries(
    {
        "type": st.one_of(st.sampled_from([*DEFAULT_EVENT_TYPES, "file.deleted", "comment.created"]), JSON_VALUES),
        "account": _node(IDS),
        "resource": st.one_of(
            st.fixed_dictionaries({"id": IDS, "type": st.one_of(st.just("file"), JSON_VALUES)}), JSON_VALUES
        ),
    },
    optional={"project": _node(IDS), "workspace": _node(IDS), "user": _node(IDS), "extra": JSON_VALUES},
)


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


BODIES = st.one_of(
    st.binary(max_size=2048),
    st.binary(max_size=64).map(lambda junk: b'{"type": "file.ready", "x": "' + junk + b'\xff\xfe\xc3"}'),
    JSON_VALUES.map(_dumps),
    SHAPED.map(_dumps),
    WELL_FORMED.map(_dumps),
    WELL_FORMED.map(lambda value: json.dumps(value, ensure_ascii=False).encode()),
    WELL_FORMED.map(lambda value: json.dumps(value, indent="\t", sort_keys=True).encode()),
    SHAPED.map(lambda value: json.dumps(value).encode("utf-16")),
    SHAPED.map(lambda value: json.dumps(value).encode("utf-32-be")),
    SHAPED.map(lambda value: b"\xef\xbb\xbf" + _dumps(value)),
    st.integers(4300, 60_000).map(lambda digits: b'{"type": ' + b"9" * digits + b"}"),
    st.integers(4300, 60_000).map(
        lambda digits: b'{"type":"file.ready","account":{"id":' + b"1" * digits + b'},"resource":{"id":"f"}}'
    ),
    st.sampled_from([b"1e999999", b"-1e-999999", b'{"type": 1e400}', b"NaN", b"[Infinity]", b'"\\ud800"']),
    # Nesting within what a JSON parser can take: the bug case (far deeper) is its own test below.
    st.integers(1, 150).map(lambda depth: b"[" * depth + b"]" * depth),
    st.integers(1, 150).map(lambda depth: b'{"a":' * depth + b"1" + b"}" * depth),
)


@dataclass(frozen=True)
class Genuine:
    """The genuine signature of a body, from which a flaw forges a near miss."""

    draw: st.DrawFn
    body: bytes
    stamp: str
    sig: str
    now: int

    @property
    def digest(self) -> str:
        return self.sig.removeprefix("v0=")

    def signed_at(self, stamp: str, secret: str = NEW_SECRET) -> tuple[list[str], list[str]]:
        return [stamp], [signature(self.body, secret, stamp)[1]]


def _wrong_secret(g: Genuine) -> tuple[list[str], list[str]]:
    secret = g.draw(st.one_of(st.just(""), st.text(min_size=1, max_size=40)))
    return [g.stamp], [signature(g.body, secret + ("x" if secret in (NEW_SECRET, OLD_SECRET) else ""), g.stamp)[1]]


#: Past the 300 s tolerance by a minute: a future stamp is checked a moment after it was drawn (up
#: to seconds later on a loaded machine), so 301 s ahead could be within the tolerance by then.
OUTSIDE_TOLERANCE_S = 361


def _skewed(direction: int) -> Callable[[Genuine], tuple[list[str], list[str]]]:
    return lambda g: g.signed_at(str(g.now + direction * g.draw(st.integers(OUTSIDE_TOLERANCE_S, 10**9))))


def _upper(g: Genuine) -> tuple[list[str], list[str]]:
    upper = g.digest.upper()
    return [g.stamp], ["v0=" + (upper if upper != g.digest else "A" + g.digest[1:])]


RANDOM_SIGNATURES = st.one_of(HEADER_VALUES, st.text("0123456789abcdef", min_size=64, max_size=64).map("v0={}".format))
SCHEMES = ["v1=", "sha256=", "V0=", "v0:", "v00=", "=", "v0 =", "hmac-sha256="]

# Each flaw turns the genuine (timestamps, signatures) into a forgery that must be refused.
FLAWS: dict[str, Callable[[Genuine], tuple[list[str], list[str]]]] = {
    "wrong-secret": _wrong_secret,
    "other-body": lambda g: (
        [g.stamp],
        [signature(g.body + g.draw(st.binary(min_size=1, max_size=8)), timestamp=g.stamp)[1]],
    ),
    "other-timestamp": lambda g: (
        [g.stamp],
        [signature(g.body, timestamp=str(g.now - g.draw(st.integers(1, 200))))[1]],
    ),
    "scheme": lambda g: ([g.stamp], [g.draw(st.sampled_from(SCHEMES)) + g.digest]),
    "upper-hex": _upper,
    "truncated": lambda g: ([g.stamp], ["v0=" + g.digest[: g.draw(st.integers(0, 63))]]),
    "extended": lambda g: ([g.stamp], [g.sig + g.draw(st.text(string.hexdigits, min_size=1, max_size=4))]),
    "empty": lambda g: ([g.stamp], [""]),
    "bare-scheme": lambda g: ([g.stamp], [g.draw(st.sampled_from(["v0=", "v0", "v1=", "sha256="]))]),
    "random": lambda g: ([g.stamp], [g.draw(RANDOM_SIGNATURES)]),
    "missing-signature": lambda g: ([g.stamp], []),
    "stale": _skewed(-1),
    "future": _skewed(+1),
    "bad-timestamp": lambda g: g.signed_at(g.draw(BAD_TIMESTAMPS)),
    "empty-timestamp": lambda g: g.signed_at(""),
    "missing-timestamp": lambda g: ([], [g.sig]),
    "repeated-signature": lambda g: (
        [g.stamp],
        [g.sig, g.draw(st.one_of(st.just(g.sig), HEADER_VALUES, st.just(signature(g.body, OLD_SECRET, g.stamp)[1])))],
    ),
    "repeated-timestamp": lambda g: (
        # Fixed bounds: a strategy whose bounds follow the clock is flaky to Hypothesis' replays.
        [g.stamp, g.draw(st.one_of(st.just(g.stamp), st.integers(0, 2**32).map(str)))],
        [g.sig],
    ),
}


@st.composite
def forged_requests(draw: st.DrawFn) -> tuple[bytes, Headers, str]:
    """A body and headers that must never verify: one deliberate flaw, plus random noise."""
    body = draw(BODIES)
    flaw = draw(st.sampled_from(sorted(FLAWS)))
    stamp, sig = signature(body)
    timestamps, signatures = FLAWS[flaw](Genuine(draw, body, stamp, sig, int(stamp)))
    headers: Headers = [(TS_HEADER, value) for value in timestamps] + [(SIG_HEADER, value) for value in signatures]
    headers = [(draw(st.sampled_from(SPELLINGS[name])), value) for name, value in headers]
    noise = draw(st.lists(st.tuples(OTHER_NAMES, HEADER_VALUES), max_size=6))
    return body, draw(st.permutations(headers + noise)), flaw


@st.composite
def signed_requests(draw: st.DrawFn) -> tuple[bytes, Headers]:
    body = draw(BODIES)
    secret = draw(st.sampled_from([NEW_SECRET, OLD_SECRET]))
    noise = draw(st.lists(st.tuples(OTHER_NAMES, HEADER_VALUES), max_size=4))
    return body, draw(st.permutations(signed(body, secret) + noise))


FUZZ = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


# -- fuzzing -------------------------------------------------------------------------------------


@FUZZ
@given(request=forged_requests())
def test_fuzzed_forgeries_are_refused_with_401_and_touch_nothing(
    asgi_default: AsgiPoster, store: redis.Redis, request: tuple[bytes, Headers, str]
) -> None:
    body, headers, flaw = request
    before = footprint(store)
    answer = asgi_default.post(body, headers)
    observe(f"flaw {flaw}")
    assert answer.status == 401, (flaw, answer)
    assert answer.json()["status"] == "unauthorized"
    assert_nothing_queued(before, store)


@FUZZ
@given(request=signed_requests())
def test_fuzzed_signed_bodies_never_earn_a_5xx_and_queue_only_on_202(
    asgi_default: AsgiPoster, store: redis.Redis, request: tuple[bytes, Headers]
) -> None:
    body, headers = request
    before = footprint(store)
    answer = asgi_default.post(body, headers)
    observe(f"{answer.status} {answer.json().get('status')}")
    assert answer.status in (200, 202, 400), answer
    assert answer.json()["status"] in ("queued", "ignored", "duplicate", "malformed")
    if answer.status == 202:
        assert_queued_one(before, store)
    else:
        assert_nothing_queued(before, store)


RAW_NOISE_LINES = st.one_of(
    st.tuples(OTHER_NAMES, HEADER_VALUES).map(lambda pair: f"{pair[0]}: {pair[1]}"),
    st.tuples(FRAMEIO_NAMES, HEADER_VALUES).map(lambda pair: f"{pair[0]}:{pair[1]}"),
    st.sampled_from(
        ["Content-Length: -1", "Content-Length: 1e3", "Transfer-Encoding: gzip, chunked", "Expect: 100-continue"]
    ),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=40),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    request=forged_requests(),
    chunked=st.booleans(),
    sizes=st.lists(st.integers(1, 700), min_size=1, max_size=4),
    junk=st.lists(RAW_NOISE_LINES, max_size=3),
)
def test_fuzzed_forgeries_over_a_socket_are_refused_and_touch_nothing(
    uvicorn_default: int,
    store: redis.Redis,
    request: tuple[bytes, Headers, str],
    chunked: bool,
    sizes: list[int],
    junk: list[str],
) -> None:
    """Raw bytes on the wire: repeated headers, header case, chunked framing with odd chunk sizes,
    and junk header lines (which uvicorn may refuse with its own 400 before the app runs)."""
    body, headers, flaw = request
    lines = [f"POST {PATH} HTTP/1.1", f"Host: 127.0.0.1:{uvicorn_default}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers] + junk
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(body)}")
    wire = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (chunked_encoding(body, sizes) if chunked else body)
    before = footprint(store)
    answer = raw_exchange(uvicorn_default, wire)
    observe(f"{answer.status} with {'junk' if junk else 'no junk'}")
    assert answer.status in ((400, 401) if junk else (401,)), (flaw, answer)
    assert_nothing_queued(before, store)


# -- replays and the timestamp window ------------------------------------------------------------


@pytest.mark.parametrize("skew", [-301, 301, -3600, 10**6], ids=["301s-old", "301s-ahead", "an-hour-old", "far-ahead"])
def test_a_delivery_replayed_outside_the_window_is_refused(poster: Poster, store: redis.Redis, skew: int) -> None:
    body = event()
    before = footprint(store)
    answer = poster.post(body, signed(body, timestamp=str(int(time.time()) + skew)))
    assert answer.status == 401
    assert "window" in answer.json()["detail"]
    assert_nothing_queued(before, store)


def test_a_captured_delivery_replayed_later_is_refused(poster: Poster, store: redis.Redis) -> None:
    """The exact bytes and headers of an accepted delivery, as if captured 301 s ago."""
    body = event()
    captured = signed(body, timestamp=str(int(time.time()) - 301))
    before = footprint(store)
    assert poster.post(body, captured).status == 401
    assert_nothing_queued(before, store)
    fresh = signed(body)
    assert poster.post(body, fresh).status == 202
    assert_queued_one(before, store)
    again = footprint(store)
    assert poster.post(body, fresh).json()["status"] == "duplicate"  # the same delivery within the window
    assert_nothing_queued(again, store)


@pytest.mark.parametrize("skew", [-290, 290])
def test_a_timestamp_inside_the_window_is_accepted(poster: Poster, store: redis.Redis, skew: int) -> None:
    body = event()
    before = footprint(store)
    assert poster.post(body, signed(body, timestamp=str(int(time.time()) + skew))).status == 202
    assert_queued_one(before, store)


# -- body limits ---------------------------------------------------------------------------------


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("extra", [1, 1000, 64 * 1024], ids=["one-byte-over", "1kb-over", "64kb-over"])
def test_a_body_over_the_small_limit_is_refused_with_413(
    small_poster: Poster, store: redis.Redis, chunked: bool, extra: int
) -> None:
    body = padded_event(SMALL_LIMIT + extra)
    before = footprint(store)
    answer = small_poster.post(body, signed(body), chunked=chunked)
    assert answer.status == 413
    assert answer.json()["status"] == "too_large"
    assert_nothing_queued(before, store)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_exactly_at_the_small_limit_is_accepted(small_poster: Poster, store: redis.Redis, chunked: bool) -> None:
    body = padded_event(SMALL_LIMIT)
    before = footprint(store)
    assert small_poster.post(body, signed(body), chunked=chunked).status == 202
    assert_queued_one(before, store)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_the_default_limit_is_256_kib(poster: Poster, store: redis.Redis, chunked: bool) -> None:
    at_limit, over = padded_event(DEFAULT_LIMIT), padded_event(DEFAULT_LIMIT + 1)
    before = footprint(store)
    assert poster.post(over, signed(over), chunked=chunked).status == 413
    assert_nothing_queued(before, store)
    assert poster.post(at_limit, signed(at_limit), chunked=chunked).status == 202
    assert_queued_one(before, store)


def test_an_unsigned_oversized_body_is_refused_before_it_is_read(uvicorn_small: int, store: redis.Redis) -> None:
    """A declared Content-Length far over the limit is answered 413 without waiting for the body."""
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {10**12}\r\n\r\n"
    ).encode()
    before = footprint(store)
    answer = raw_exchange(uvicorn_small, head + b"{" * 100)
    assert answer.status == 413
    assert_nothing_queued(before, store)


def test_content_length_and_chunked_together_cannot_sneak_past_the_limit(
    uvicorn_small: int, store: redis.Redis
) -> None:
    """A small Content-Length next to a large chunked body: the chunked framing wins and is capped."""
    body = padded_event(SMALL_LIMIT * 8)
    headers = [*signed(body), ("Content-Length", "5")]
    wire = raw_request(uvicorn_small, body, headers, chunked=True)
    before = footprint(store)
    answer = raw_exchange(uvicorn_small, wire)
    assert answer.status in (400, 413)
    assert_nothing_queued(before, store)


# -- secret rotation -----------------------------------------------------------------------------


def test_both_secrets_verify_during_a_rotation(poster: Poster, store: redis.Redis) -> None:
    for secret in (NEW_SECRET, OLD_SECRET):
        body = event()
        before = footprint(store)
        assert poster.post(body, signed(body, secret)).status == 202, secret
        assert_queued_one(before, store)


def test_a_removed_secret_is_refused_once_the_app_is_rebuilt(redis_url: str, store: redis.Redis) -> None:
    with app_client(redis_url, NEW_SECRET) as client:
        rotated = AsgiPoster(client)
        body = event()
        before = footprint(store)
        assert rotated.post(body, signed(body, OLD_SECRET)).status == 401
        assert_nothing_queued(before, store)
        assert rotated.post(body, signed(body, NEW_SECRET)).status == 202
        assert_queued_one(before, store)


def test_a_removed_secret_is_refused_once_the_server_restarts(
    redis_url: str, store: redis.Redis, tmp_path: Path
) -> None:
    with running_service(redis_url, tmp_path, f"{NEW_SECRET},{OLD_SECRET}") as (_, port):
        body = event()
        before = footprint(store)
        assert SocketPoster(port).post(body, signed(body, OLD_SECRET)).status == 202
        assert_queued_one(before, store)
    with running_service(redis_url, tmp_path, NEW_SECRET) as (_, port):
        body = event()
        before = footprint(store)
        assert SocketPoster(port).post(body, signed(body, OLD_SECRET)).status == 401
        assert_nothing_queued(before, store)
        assert SocketPoster(port).post(body, signed(body, NEW_SECRET)).status == 202


# -- signature and timestamp headers -------------------------------------------------------------


def _variants(body: bytes) -> dict[str, Headers]:
    stamp, sig = signature(body)
    digest = sig.removeprefix("v0=")
    _, old_sig = signature(body, OLD_SECRET, stamp)
    ts = (TS_HEADER, stamp)
    return {
        "v1-scheme": [ts, (SIG_HEADER, f"v1={digest}")],
        "sha256-scheme": [ts, (SIG_HEADER, f"sha256={digest}")],
        "bare-hex": [ts, (SIG_HEADER, digest)],
        "empty-signature": [ts, (SIG_HEADER, "")],
        "empty-digest": [ts, (SIG_HEADER, "v0=")],
        "no-signature": [ts],
        "signature-twice": [ts, (SIG_HEADER, sig), (SIG_HEADER, sig)],
        "valid-then-bogus": [ts, (SIG_HEADER, sig), (SIG_HEADER, "v0=" + "0" * 64)],
        "bogus-then-valid": [ts, (SIG_HEADER, "v0=" + "0" * 64), (SIG_HEADER, sig)],
        "new-and-old-signatures": [ts, (SIG_HEADER, sig), (SIG_HEADER, old_sig)],
        "twice-in-other-case": [ts, ("X-Frameio-Signature", sig), ("x-frameio-signature", sig)],
        "comma-joined": [ts, (SIG_HEADER, f"{sig},{sig}")],
        "timestamp-twice": [ts, ts, (SIG_HEADER, sig)],
        "two-timestamps": [ts, (TS_HEADER, str(int(stamp) - 1)), (SIG_HEADER, sig)],
        "comma-joined-timestamps": [(TS_HEADER, f"{stamp},{stamp}"), (SIG_HEADER, sig)],
        "empty-timestamp": [(TS_HEADER, ""), (SIG_HEADER, sig)],
        "no-timestamp": [(SIG_HEADER, sig)],
    }


VARIANTS = list(_variants(b"{}"))


@pytest.mark.parametrize("variant", VARIANTS)
def test_signature_and_timestamp_headers_other_than_one_valid_pair_are_refused(
    poster: Poster, store: redis.Redis, variant: str
) -> None:
    body = event()
    before = footprint(store)
    answer = poster.post(body, _variants(body)[variant])
    assert answer.status == 401, answer
    assert_nothing_queued(before, store)


# -- bugs found ----------------------------------------------------------------------------------


def test_a_signed_deeply_nested_body_is_a_400_not_a_500(redis_url: str, store: redis.Redis) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    with app_client(redis_url, NEW_SECRET) as client:
        before = footprint(store)
        answer = AsgiPoster(client).post(body, signed(body))
    assert answer.status == 400
    assert_nothing_queued(before, store)


def test_a_client_that_hangs_up_mid_body_is_not_an_application_error(redis_url: str, store: redis.Redis) -> None:
    app = create_app(load_settings({"REDIS_URL": redis_url, "FRAMEIO_WEBHOOK_SECRETS": NEW_SECRET}))
    incoming: list[dict[str, Any]] = [
        {"type": "http.request", "body": b'{"type": "file.re', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"content-length", b"1000")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    before = footprint(store)
    asyncio.run(app(scope, receive, send))  # must not raise
    assert_nothing_queued(before, store)
