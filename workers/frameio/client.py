"""The Frame.io V4 client: the few endpoints autostack calls, on an injected httpx transport.

Nothing here retries: the client makes one attempt and maps every failure to the hierarchy in
:mod:`workers.frameio.errors`; what to do next is the job's decision (a write is never replayed blindly).
Every call names its endpoint class (the names the rate limiter and the metrics use) and reports
to an optional :class:`CallObserver`.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import httpx

from workers.frameio.accounts import AccountTokens, TokenSource
from workers.frameio.errors import FrameioError, TransportError, error_for_status
from workers.frameio.limiting import retry_after_s
from workers.frameio.models import (
    Asset,
    FileAsset,
    FolderAsset,
    StackAsset,
    asset_from_json,
    file_from_json,
    folder_from_json,
    stack_from_json,
)
from workers.frameio.platform import Platform

PAGE_SIZE = 100
MAX_PAGES = 10_000
#: Reorder is listed as experimental (SDK 4.0.0 has none): the header it may need (docs/frameio.md §2.1, §3).
EXPERIMENTAL = {"api-version": "experimental"}
_KINDS: dict[str, type[Asset]] = {"file": FileAsset, "version_stack": StackAsset, "folder": FolderAsset}


class CallObserver(Protocol):
    """Told before and after every call (the rate limiter and the metrics hang here)."""

    def before(self, account_id: str, endpoint: str) -> None: ...

    def after(self, account_id: str, endpoint: str, status: int | None, headers: httpx.Headers | None) -> None: ...


class _NoObserver:
    def before(self, account_id: str, endpoint: str) -> None:
        return None

    def after(self, account_id: str, endpoint: str, status: int | None, headers: httpx.Headers | None) -> None:
        return None


class FrameioClient:
    """Synchronous V4 client. Build one per process with :func:`workers.runtime` and pass it in.

    ``token`` is one token source for every account, or :class:`AccountTokens`: each call then
    sends its account's token, and a 401 invalidates that account's token only."""

    def __init__(
        self,
        base_url: str,
        token: TokenSource | AccountTokens,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 10.0,
        observer: CallObserver | None = None,
        platform: Platform | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self._token = token
        self.platform = platform or Platform()
        self._observer = observer or _NoObserver()
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/v4",
            transport=transport,
            timeout=timeout,
            headers={"user-agent": "autostack/0.1", "accept": "application/json"},
            follow_redirects=False,
            verify=verify,
        )

    def close(self) -> None:
        self._http.close()

    # -- reads -------------------------------------------------------------------------------

    def show_file(self, account_id: str, file_id: str) -> FileAsset:
        body = self._call("show_file", account_id, "GET", f"/accounts/{account_id}/files/{file_id}")
        return file_from_json(_data_object(body))

    def list_folder_children(self, account_id: str, folder_id: str, types: str = "file,version_stack") -> list[Asset]:
        """Every child of ``types`` (a comma list of ``file``, ``version_stack``, ``folder``)."""
        path = f"/accounts/{account_id}/folders/{folder_id}/children"
        # Oldest first: an upload or a move during the listing then shifts only pages not yet read
        # (the default, newest updated first, duplicates and skips items while they change).
        params = {"page_size": str(PAGE_SIZE), **self._type_filter(types), "sort": "created_at_asc"}
        return _assets(self._paged("list_folder_children", account_id, path, params), types)

    def folder_pages_newest(
        self, account_id: str, folder_id: str, types: str = "file,version_stack"
    ) -> Iterator[list[Asset]]:
        """The folder's children a page at a time, newest first: a caller that knows the folder
        stops reading at the first page with nothing new on it."""
        path = f"/accounts/{account_id}/folders/{folder_id}/children"
        params = {"page_size": str(PAGE_SIZE), **self._type_filter(types), "sort": "created_at_desc"}
        for page in self._pages("list_folder_children", account_id, path, params):
            yield _assets(iter(page), types)

    def _type_filter(self, types: str) -> dict[str, str]:
        """The ``type`` parameter to send: a single type always; a comma list only where Frame.io is
        known to honour one (undocumented: one may be refused, or cut to its first value, which
        would hide every stack). Otherwise nothing, and :func:`_assets` filters here."""
        if "," not in types or self.platform.type_list == "honoured":
            return {"type": types}
        return {}

    def show_folder(self, account_id: str, folder_id: str) -> FolderAsset:
        body = self._call("show_folder", account_id, "GET", f"/accounts/{account_id}/folders/{folder_id}")
        return folder_from_json(_data_object(body))

    def show_stack(self, account_id: str, stack_id: str) -> StackAsset:
        body = self._call("show_stack", account_id, "GET", f"/accounts/{account_id}/version_stacks/{stack_id}")
        return stack_from_json(_data_object(body))

    def list_stack_children(self, account_id: str, stack_id: str) -> list[FileAsset]:
        path = f"/accounts/{account_id}/version_stacks/{stack_id}/children"
        items = self._paged("list_stack_children", account_id, path, {"page_size": str(PAGE_SIZE)})
        return [file_from_json(item) for item in items if item.get("type", "file") == "file"]

    # -- writes ------------------------------------------------------------------------------

    def create_webhook(
        self, account_id: str, workspace_id: str, name: str, url: str, events: list[str]
    ) -> dict[str, Any]:
        """Register a webhook; the answer holds its ``secret``, which Frame.io shows only here."""
        path = f"/accounts/{account_id}/workspaces/{workspace_id}/webhooks"
        body = self._call(
            "webhooks_create", account_id, "POST", path, {"data": {"name": name, "url": url, "events": events}}
        )
        return _data_object(body)

    def list_actions(self, account_id: str, workspace_id: str) -> list[dict[str, Any]]:
        """The workspace's Custom Actions (experimental API; the first page of 100 is enough for ours)."""
        path = f"/accounts/{account_id}/workspaces/{workspace_id}/actions"
        body = self._call("actions_list", account_id, "GET", path, params={"page_size": "100"}, headers=EXPERIMENTAL)
        items = body.get("data")
        return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []

    def create_action(self, account_id: str, workspace_id: str, fields: dict[str, str]) -> dict[str, Any]:
        """Create a Custom Action; the answer holds its ``secret``, which Frame.io shows only here."""
        path = f"/accounts/{account_id}/workspaces/{workspace_id}/actions"
        body = self._call("actions_create", account_id, "POST", path, {"data": fields}, headers=EXPERIMENTAL)
        return _data_object(body)

    def update_action(self, account_id: str, action_id: str, fields: dict[str, str]) -> dict[str, Any]:
        path = f"/accounts/{account_id}/actions/{action_id}"
        body = self._call("actions_update", account_id, "PATCH", path, {"data": fields}, headers=EXPERIMENTAL)
        return _data_object(body)

    def create_stack(self, account_id: str, folder_id: str, file_ids: list[str]) -> StackAsset:
        path = f"/accounts/{account_id}/folders/{folder_id}/version_stacks"
        body = self._call("create_stack", account_id, "POST", path, {"data": {"file_ids": file_ids}})
        return stack_from_json(_data_object(body))

    def move_file(self, account_id: str, file_id: str, parent_id: str) -> FileAsset:
        path = f"/accounts/{account_id}/files/{file_id}/move"
        body = self._call("move_file", account_id, "PATCH", path, {"data": {"parent_id": parent_id}})
        return file_from_json(_data_object(body))

    def reorder(self, account_id: str, stack_id: str, target_file_id: str, placement: dict[str, str]) -> None:
        """``placement`` is one of ``{"move_to": "top"|"bottom"}``, ``{"move_above_file_id": id}``,
        ``{"move_below_file_id": id}``."""
        path = f"/accounts/{account_id}/version_stacks/{stack_id}/versions"
        payload = {"data": {"target_file_id": target_file_id, **placement}}
        # Without the header reorder may be an unknown route (404); with it, it works either way.
        headers = {} if self.platform.reorder_needs_experimental is False else EXPERIMENTAL
        self._call("reorder_stack", account_id, "PATCH", path, payload, headers=headers)

    # -- plumbing ----------------------------------------------------------------------------

    def _paged(self, endpoint: str, account_id: str, path: str, params: dict[str, str]) -> Iterator[dict[str, Any]]:
        """Every item of every page."""
        for page in self._pages(endpoint, account_id, path, params):
            yield from page

    def _pages(
        self, endpoint: str, account_id: str, path: str, params: dict[str, str]
    ) -> Iterator[list[dict[str, Any]]]:
        """Page after page, each read only when asked for; the query is re-sent on each page
        (Frame.io's next link carries only the cursor)."""
        after: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            query = {**params, "after": after} if after else params
            body = self._call(endpoint, account_id, "GET", path, params=query)
            data = body.get("data")
            if not isinstance(data, list):
                raise FrameioError(endpoint, 200, "the answer has no data list")
            yield [item for item in data if isinstance(item, dict)]
            after = _next_cursor(body)
            if after is None:
                return
            if after in seen:
                raise FrameioError(endpoint, 200, "the cursor repeats")
            seen.add(after)
        raise FrameioError(endpoint, 200, f"more than {MAX_PAGES} pages")

    def _call(
        self,
        endpoint: str,
        account_id: str,
        method: str,
        path: str,
        payload: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        source = self._token(account_id) if isinstance(self._token, AccountTokens) else self._token
        token = source()
        extra = headers or {}
        response = self._send(endpoint, account_id, method, path, payload, params, token, extra)
        if response.status_code == 401:
            # Refused before any work was done, so one retry is safe even for a write.
            fresh = fresh_token(source, token)
            if fresh is not None:
                response = self._send(endpoint, account_id, method, path, payload, params, fresh, extra)
        return _checked(endpoint, response)

    def _send(
        self,
        endpoint: str,
        account_id: str,
        method: str,
        path: str,
        payload: dict[str, Any] | None,
        params: dict[str, str] | None,
        token: str,
        extra: dict[str, str],
    ) -> httpx.Response:
        self._observer.before(account_id, endpoint)
        headers = {**extra, "authorization": f"Bearer {token}"}
        try:
            response = self._http.request(method, path, json=payload, params=params, headers=headers)
        except httpx.TimeoutException:
            self._observer.after(account_id, endpoint, None, None)
            raise TransportError(endpoint, None, "timed out") from None
        except httpx.TransportError as exc:
            self._observer.after(account_id, endpoint, None, None)
            raise TransportError(endpoint, None, type(exc).__name__) from None
        self._observer.after(account_id, endpoint, response.status_code, response.headers)
        return response


def fresh_token(token: TokenSource, refused: str) -> str | None:
    """After a 401 to ``refused``: drop it (for every worker) and return a different one, if any."""
    invalidate = getattr(token, "invalidate", None)
    if invalidate is None:
        return None
    invalidate(refused)
    fresh = token()
    return fresh if fresh != refused else None


def _checked(endpoint: str, response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        raise error_for_status(endpoint, response.status_code, _detail(response), retry_after_s(response.headers))
    if response.status_code == 204 or not response.content:
        return {}
    try:
        body = response.json()
    except ValueError:
        raise FrameioError(endpoint, response.status_code, "the answer is not JSON") from None
    if not isinstance(body, dict):
        raise FrameioError(endpoint, response.status_code, "the answer is not a JSON object")
    return body


def _detail(response: httpx.Response) -> str:
    """The first error detail of a V4 error body, shortened; never the request."""
    try:
        errors = response.json().get("errors")
        first = errors[0] if isinstance(errors, list) and errors else {}
        detail = first.get("detail") or first.get("title") or ""
    except (ValueError, AttributeError):
        detail = ""
    return str(detail)[:200]


def _next_cursor(body: dict[str, Any]) -> str | None:
    links = body.get("links")
    link = links.get("next") if isinstance(links, dict) else None
    if not isinstance(link, str) or not link:
        return None
    cursor = parse_qs(urlsplit(link).query).get("after")
    return cursor[0] if cursor and cursor[0] else None


def _data_object(body: dict[str, Any]) -> dict[str, Any]:
    data = body.get("data")
    return data if isinstance(data, dict) else {}


def _assets(items: Iterator[dict[str, Any]], types: str) -> list[Asset]:
    """Typed assets of ``types``, each once (a listing that changed while it was paged can repeat
    an item; one sent without a ``type`` filter holds every kind)."""
    kinds = tuple(_KINDS[kind] for kind in types.split(",") if kind in _KINDS)
    seen: dict[str, Asset] = {}
    for asset in (asset_from_json(item) for item in items):
        if isinstance(asset, kinds) and asset.id not in seen:
            seen[asset.id] = asset
    return list(seen.values())
