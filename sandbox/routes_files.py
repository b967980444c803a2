"""File endpoints: show, upload status, update (rename), delete, move, local upload, part PUTs.

Paths, bodies and answers per the SDK's ``files/raw_client.py``: show -> ``FileWithIncludes``;
status -> ``FileUploadStatus``; update and move -> ``File``; delete -> 204; local upload -> 201
``FileWithUploadUrls``. Upload URLs are pre-signed (no bearer token) and point at this sandbox.
show reads through the read lag and move is recorded for it (``read_lag_ms``).
"""

from __future__ import annotations

from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from sandbox import stacking, uploads
from sandbox.errors import invalid
from sandbox.gateway import Call, api, ok
from sandbox.model import iso
from sandbox.paging import parse_includes
from sandbox.views import file_view

MAX_FILE_SIZE = 5 * 1024**4
A = "/v4/accounts/{account_id}"


def _includes(call: Call) -> frozenset[str]:
    return parse_includes(call.request.query_params.get("include"), call.sandbox.config.include_lists)


async def show_file(call: Call) -> Response:
    store = call.sandbox.read_store()
    file = store.file(call.request.path_params["file_id"])
    return ok(file_view(file, store, _includes(call)))


async def file_status(call: Call) -> Response:
    file = call.sandbox.store.file(call.request.path_params["file_id"])
    return ok(
        {
            "id": file.id,
            "filetype": file.media_type or "",
            "upload_complete": file.status != "created",
            "upload_failed": False,
            "uploaded_at": iso(file.uploaded_at) if file.uploaded_at else None,
            "upload_completed_at": iso(file.upload_completed_at) if file.upload_completed_at else None,
        }
    )


async def update_file(call: Call) -> Response:
    sandbox, store = call.sandbox, call.sandbox.store
    file = store.file(call.request.path_params["file_id"])
    data = await call.data()
    if "name" in data:
        file.name = uploads.check_name(data["name"])
        file.touch()
        stack = store.stacks.get(file.parent_id or "")
        if stack is not None and stack.head_id == file.id and sandbox.config.stack_name == "follows_head":
            stack.name = file.name
        store.emit("file.updated", file, call.user.id)
    return ok(file_view(file, store))


async def delete_file(call: Call) -> Response:
    store = call.sandbox.store
    file = store.file(call.request.path_params["file_id"])
    stacking.delete_file(store, call.sandbox.config, file, call.user.id)
    return Response(status_code=204)


async def move_file(call: Call) -> Response:
    store = call.sandbox.store
    file = store.file(call.request.path_params["file_id"])
    parent_id = (await call.data()).get("parent_id")
    if not isinstance(parent_id, str) or not parent_id:
        raise invalid("parent_id must be a folder or version stack id", "/data/parent_id")
    with call.sandbox.writing():
        stacking.move_file(store, call.sandbox.config, file, parent_id, call.user.id)
    return ok(file_view(file, store))


async def local_upload(call: Call) -> Response:
    store = call.sandbox.store
    folder = store.folder(call.request.path_params["folder_id"])
    data = await call.data()
    name = uploads.check_name(data.get("name"))
    size = data.get("file_size")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 < size <= MAX_FILE_SIZE:
        raise invalid("file_size must be a positive integer of bytes (up to 5 TB)", "/data/file_size")
    file = uploads.create_file(call.sandbox, folder, name, size, call.user.id)
    view = file_view(file, store)
    view["media_type"] = file.media_type  # the uploader sends it as the PUTs' Content-Type
    view["upload_urls"] = uploads.upload_urls(file, str(call.request.base_url))
    return ok(view, status=201)


async def upload_part(call: Call) -> Response:
    """``PUT /_upload/{file_id}/{part}``: S3-like, answers 403 when the request breaks the policy."""
    request, sandbox = call.request, call.sandbox
    file = sandbox.store.files.get(request.path_params["file_id"])
    index = int(request.path_params["part"])
    if file is None or request.query_params.get("signature") != file.upload_secret:
        return PlainTextResponse("SignatureDoesNotMatch", status_code=403)
    if not 0 <= index < len(file.parts):
        return PlainTextResponse("NoSuchUpload", status_code=404)
    if request.headers.get("content-type", "") != file.media_type:
        return PlainTextResponse(f"Content-Type must be {file.media_type}", status_code=403)
    if sandbox.config.upload_requires_acl and request.headers.get("x-amz-acl") != "private":
        return PlainTextResponse("AccessDenied: x-amz-acl: private is required", status_code=403)
    await request.body()
    uploads.part_received(sandbox, file, index)
    return Response(status_code=200, headers={"etag": f'"{file.id}-{index}"'})


ROUTES = [
    Route(f"{A}/files/{{file_id}}", api("show_file", show_file), methods=["GET"]),
    Route(f"{A}/files/{{file_id}}", api("update_file", update_file), methods=["PATCH"]),
    Route(f"{A}/files/{{file_id}}", api("delete_file", delete_file), methods=["DELETE"]),
    Route(f"{A}/files/{{file_id}}/status", api("file_status", file_status), methods=["GET"]),
    Route(f"{A}/files/{{file_id}}/move", api("move_file", move_file), methods=["PATCH"]),
    Route(f"{A}/folders/{{folder_id}}/files/local_upload", api("local_upload", local_upload), methods=["POST"]),
    Route("/_upload/{file_id}/{part:int}", api("upload_part", upload_part, public=True), methods=["PUT"]),
]
