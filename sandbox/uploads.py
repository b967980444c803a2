"""The upload flow: a file is `created` (no bytes), then `uploaded`, then `transcoded`.

Real flow (``docs/frameio.md`` §1 and §8): ``local_upload`` creates the file and returns
``upload_urls`` (``[{"size", "url"}]``); the client PUTs each part (``Content-Type`` equal to the
file's media type, ``x-amz-acl: private``); when every part is in, the file is ``uploaded``
(``file.upload.completed``); ``transcode_delay_s`` later it is ``transcoded`` (``file.ready``).
The media type is guessed from the name at creation (Frame.io's own upload clients get it back in
the create answer and send it as the PUT's Content-Type). With ``media_type_before_upload: null``
every other answer shows ``media_type`` null until the upload completes (the SDK's model says it
is "nullable until the file has finished uploading"); the knob holds for files created after it
is set.
"""

from __future__ import annotations

import math
import mimetypes
from pathlib import PurePath
from typing import TYPE_CHECKING

from sandbox.errors import invalid
from sandbox.model import File, Folder, UploadPart, now

if TYPE_CHECKING:
    from sandbox.runtime import Sandbox

MEDIA_TYPES = {
    ".mov": "video/quicktime", ".mp4": "video/mp4", ".m4v": "video/x-m4v", ".mxf": "application/mxf",
    ".avi": "video/x-msvideo", ".mkv": "video/x-matroska", ".webm": "video/webm",
    ".r3d": "video/x-red-r3d", ".braw": "video/x-blackmagic-raw", ".ari": "image/x-arri",
    ".exr": "image/x-exr", ".dpx": "image/x-dpx", ".tif": "image/tiff", ".tiff": "image/tiff",
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".psd": "image/vnd.adobe.photoshop",
    ".wav": "audio/wav", ".aif": "audio/aiff", ".aiff": "audio/aiff", ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4", ".pdf": "application/pdf", ".zip": "application/zip",
}  # fmt: skip
FALLBACK_MEDIA_TYPE = "application/octet-stream"


def guess_media_type(name: str) -> str:
    suffix = PurePath(name).suffix.lower()
    return MEDIA_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or FALLBACK_MEDIA_TYPE


def split_parts(file_size: int, part_size: int) -> list[UploadPart]:
    """Equal parts (the last one smaller), as the SDK's chunked uploader expects them."""
    count = max(1, math.ceil(file_size / part_size))
    chunk = math.ceil(file_size / count)
    sizes = [chunk] * (count - 1) + [file_size - chunk * (count - 1)]
    return [UploadPart(size) for size in sizes]


def check_name(name: object, pointer: str = "/data/name") -> str:
    if not isinstance(name, str) or not name.strip():
        raise invalid("name must be a non-empty string", pointer)
    if "/" in name or len(name) > 255:
        raise invalid("name must not contain / or exceed 255 characters", pointer)
    return name


def create_file(
    sandbox: Sandbox, folder: Folder, name: str, file_size: int, user_id: str, media_type: str | None = None
) -> File:
    """A new file in status `created`, with its upload parts; emits ``file.created``."""
    store = sandbox.store
    file = File(store.new_id(), name, folder.id, folder.project_id, user_id, file_size=file_size)
    file.media_type = media_type or guess_media_type(name)
    file.media_type_known = sandbox.config.media_type_before_upload == "set"
    file.parts = split_parts(file_size, sandbox.config.upload_part_size)
    file.upload_secret = store.new_secret()[:32]
    store.files[file.id] = file
    store.emit("file.created", file, user_id)
    return file


def upload_urls(file: File, base_url: str) -> list[dict[str, object]]:
    base = base_url.rstrip("/")
    return [
        {"size": part.size, "url": f"{base}/_upload/{file.id}/{index}?signature={file.upload_secret}"}
        for index, part in enumerate(file.parts)
    ]


def part_received(sandbox: Sandbox, file: File, index: int) -> None:
    """One part is in; the last one completes the upload."""
    file.parts[index].received = True
    if file.uploaded_at is None:
        file.uploaded_at = now()
    if file.status == "created" and all(part.received for part in file.parts):
        mark_uploaded(sandbox, file)


def mark_uploaded(sandbox: Sandbox, file: File, *, transcode: bool = True) -> None:
    file.status = "uploaded"
    file.media_type_known = True
    file.uploaded_at = file.uploaded_at or now()
    file.upload_completed_at = now()
    file.touch()
    sandbox.store.emit("file.upload.completed", file, file.creator_id)
    if transcode:
        sandbox.call_later(sandbox.config.transcode_delay_s, lambda: mark_transcoded(sandbox, file.id))


def mark_transcoded(sandbox: Sandbox, file_id: str) -> None:
    file = sandbox.store.files.get(file_id)
    if file is None or file.status != "uploaded":
        return
    file.status = "transcoded"
    file.touch()
    sandbox.store.emit("file.ready", file, file.creator_id)
