"""``autostack doctor --probe``: learn Frame.io's undocumented answers in a scratch folder.

In a folder it creates (and always deletes, even when a step fails), it uploads three tiny PNGs
through the real upload flow (``local_upload``, then a PUT per upload URL), stacks two, moves the
third in, reorders, and reads back after each write; :func:`~workers.tools.doctor_verdicts.infer`
turns what it saw into a :class:`~workers.frameio.platform.Platform`, which :func:`store_platform`
keeps in Redis for the workers. Every write names the scratch folder or something made in it.
The files' names carry no version, so autostack's own workers decline them.
"""

from __future__ import annotations

import base64
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis

from workers.frameio.errors import FrameioError
from workers.frameio.platform import PLATFORM_KEY, Platform
from workers.tools.doctor_api import Answer, Api
from workers.tools.doctor_verdicts import Observations, infer

#: A 1x1 transparent PNG: the smallest file Frame.io will treat as media.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
#: bottom, top (stacked by create, oldest first), then the file moved in.
NAMES = ("autostack-doctor-probe-a.png", "autostack-doctor-probe-b.png", "autostack-doctor-probe-c.png")
EXPERIMENTAL = {"api-version": "experimental"}


@dataclass(frozen=True)
class Clock:
    """Time, injectable: ``now`` and ``sleep`` in seconds (monotonic), ``wall`` for ``learned_at``."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    wall: Callable[[], float] = time.time


class StepFailed(Exception):
    """A probe step was refused; the message names the step and the status."""

    def __init__(self, step: str, answer: Answer | None = None) -> None:
        super().__init__(f"{step}: HTTP {answer.status}" if answer is not None else f"{step}: timed out")


@dataclass(frozen=True)
class ProbeResult:
    platform: Platform  # what was learned (all of it only when ``failed`` is None)
    failed: str | None  # the step that failed, if one did
    folder_id: str | None  # the scratch folder
    cleaned_up: bool  # the scratch folder is gone (or was never made)


def run_probe(
    api: Api, account_id: str, parent_id: str, clock: Clock | None = None, deadline_s: float = 10.0
) -> ProbeResult:
    """Make a scratch folder under ``parent_id``, learn in it, delete it (whatever happened)."""
    clock = clock or Clock()
    made = api.request(
        "POST", f"/accounts/{account_id}/folders/{parent_id}/folders", json={"data": {"name": _folder_name(clock)}}
    )
    if not made.ok:
        return ProbeResult(Platform(), str(StepFailed("create the scratch folder", made)), None, True)
    folder_id = str(made.data().get("id"))
    probe = _Probe(api, account_id, folder_id, clock, deadline_s)
    failed: str | None = None
    try:
        probe.run()
    except (StepFailed, FrameioError) as exc:
        failed = str(exc)
    finally:
        cleaned = _delete_folder(api, account_id, folder_id)
    return ProbeResult(infer(probe.seen, clock.wall()), failed, folder_id, cleaned)


def _folder_name(clock: Clock) -> str:
    return f"autostack-doctor-{time.strftime('%Y%m%d-%H%M%S', time.gmtime(clock.wall()))}"


def _delete_folder(api: Api, account_id: str, folder_id: str) -> bool:
    try:
        return api.request("DELETE", f"/accounts/{account_id}/folders/{folder_id}").ok
    except FrameioError:
        return False


def store_platform(client: redis.Redis, platform: Platform) -> None:
    """Keep the learned answers where the workers read them (:meth:`workers.runtime.Runtime.platform`)."""
    client.set(PLATFORM_KEY, platform.to_json())


@dataclass(frozen=True)
class _Upload:
    id: str
    media_type: str
    urls: list[dict[str, Any]]


class _Probe:
    """The steps, in order; each write is followed by reads that wait out the measured read lag."""

    def __init__(self, api: Api, account_id: str, folder_id: str, clock: Clock, deadline_s: float) -> None:
        self.api, self.clock, self.deadline_s = api, clock, deadline_s
        self.a, self.folder = f"/accounts/{account_id}", folder_id
        self.seen = Observations()
        self.lag_s = 0.0

    def see(self, **facts: Any) -> None:
        self.seen = dataclasses.replace(self.seen, **facts)

    def run(self) -> None:
        uploads = [self.create_file(name) for name in NAMES]
        bottom, top, moved = (upload.id for upload in uploads)
        self.see(bottom=bottom, top=top, moved=moved, media_type_mid_upload=self.mid_upload(bottom))
        for upload in uploads:
            self.put_parts(upload)
        for upload in uploads:
            self.await_uploaded(upload.id)
        stack = self.create_stack(bottom, top)
        self.measure_lag(bottom, stack["id"])
        self.see_stack(stack["id"])
        self.see(children_after_create=self.children(stack["id"]))
        self.write("move a file into the stack", "PATCH", f"/files/{moved}/move", {"parent_id": stack["id"]})
        self.see(children_after_move=self.children(stack["id"]))
        self.reorder(stack["id"], bottom)
        after = str(self.get(f"/version_stacks/{stack['id']}").data().get("name"))
        self.see(stack_names=(str(stack.get("name")), after, NAMES[0]))

    # -- steps -------------------------------------------------------------------------------

    def create_file(self, name: str) -> _Upload:
        answer = self.api.request(
            "POST",
            f"{self.a}/folders/{self.folder}/files/local_upload",
            json={"data": {"name": name, "file_size": len(PNG)}},
        )
        data = answer.data()
        if not answer.ok or not isinstance(data.get("upload_urls"), list):
            raise StepFailed("local_upload", answer)
        return _Upload(str(data.get("id")), str(data.get("media_type") or "image/png"), data["upload_urls"])

    def mid_upload(self, file_id: str) -> tuple[str, str | None]:
        data = self.poll("show the new file", lambda: self.file(file_id) or None)
        media = data.get("media_type")
        return str(data.get("status")), media if isinstance(media, str) else None

    def put_parts(self, upload: _Upload) -> None:
        offset = 0
        for part in upload.urls:
            size = int(part.get("size", len(PNG)))
            headers = {"content-type": upload.media_type, "x-amz-acl": "private"}
            status = self.api.put(str(part.get("url")), PNG[offset : offset + size], headers)
            if not 200 <= status < 300:
                raise StepFailed("upload a part", Answer(status, {}))
            offset += size

    def await_uploaded(self, file_id: str) -> None:
        self.poll("wait for an upload to complete", lambda: self.file(file_id).get("status") not in (None, "created"))

    def create_stack(self, bottom: str, top: str) -> dict[str, Any]:
        path = f"{self.a}/folders/{self.folder}/version_stacks"
        answer = self.api.request("POST", path, json={"data": {"file_ids": [bottom, top]}})
        if not answer.ok:
            raise StepFailed("create a stack", answer)
        return answer.data()

    def measure_lag(self, file_id: str, stack_id: str) -> None:
        """How long after the create a read still shows the file outside the stack (0: never)."""
        start = self.clock.now()
        if self.file(file_id).get("parent_id") == stack_id:
            self.see(read_lag_ms=0.0)
            return
        self.poll("see the new stack", lambda: self.file(file_id).get("parent_id") == stack_id)
        self.lag_s = self.clock.now() - start
        self.see(read_lag_ms=round(self.lag_s * 1000.0, 1))

    def see_stack(self, stack_id: str) -> None:
        """head_version in show_stack and in a listing; what a type list and a stack-as-folder answer."""
        self.see(head_version_in_show_stack=_has_head(self.get(f"/version_stacks/{stack_id}").data()))
        listed = self.get(f"/folders/{self.folder}/children", {"type": "version_stack", "page_size": "100"})
        found = next((item for item in listed.items() if item.get("id") == stack_id), None)
        self.see(head_version_in_listing=_has_head(found) if found is not None else None)
        both = self.get(f"/folders/{self.folder}/children", {"type": "file,version_stack", "page_size": "100"})
        self.see(type_list=(both.status, frozenset(str(item.get("type")) for item in both.items())))
        self.see(stack_as_folder_status=self.get(f"/folders/{stack_id}/children").status)

    def children(self, stack_id: str) -> tuple[str, ...]:
        answer = self.get(f"/version_stacks/{stack_id}/children", {"page_size": "100"})
        return tuple(str(item.get("id")) for item in answer.items() if item.get("type", "file") == "file")

    def reorder(self, stack_id: str, target: str) -> None:
        """``target`` to the top: without the experimental header, and with it if refused as unknown."""
        path, body = (
            f"{self.a}/version_stacks/{stack_id}/versions",
            {"data": {"target_file_id": target, "move_to": "top"}},
        )
        plain = self.api.request("PATCH", path, json=body)
        self.see(reorder_status=plain.status)
        answer = plain
        if plain.status == 404:
            answer = self.api.request("PATCH", path, json=body, headers=EXPERIMENTAL)
            self.see(reorder_experimental_status=answer.status)
        if not answer.ok:
            raise StepFailed("reorder the stack", answer)
        self.settle()

    # -- plumbing ----------------------------------------------------------------------------

    def write(self, step: str, method: str, path: str, data: dict[str, Any]) -> None:
        answer = self.api.request(method, f"{self.a}{path}", json={"data": data})
        if not answer.ok:
            raise StepFailed(step, answer)
        self.settle()

    def settle(self) -> None:
        """Wait out the read lag measured after the create, so the next read shows the write."""
        if self.lag_s > 0:
            self.clock.sleep(self.lag_s)

    def get(self, path: str, params: dict[str, str] | None = None) -> Answer:
        return self.api.request("GET", f"{self.a}{path}", params=params)

    def file(self, file_id: str) -> dict[str, Any]:
        """The file's JSON, or ``{}`` while it can't be read."""
        answer = self.get(f"/files/{file_id}")
        return answer.data() if answer.ok else {}

    def poll(self, step: str, ready: Callable[[], Any]) -> Any:
        """``ready()``'s first truthy answer, asked every 0.2 s until the deadline."""
        start = self.clock.now()
        while True:
            found = ready()
            if found:
                return found
            if self.clock.now() - start >= self.deadline_s:
                raise StepFailed(step)
            self.clock.sleep(0.2)


def _has_head(data: dict[str, Any]) -> bool:
    return isinstance(data.get("head_version"), dict)
