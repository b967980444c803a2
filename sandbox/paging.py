"""Cursor pages as Frame.io serves them (``docs/frameio.md`` §2.3, SDK ``types/links.py``).

``page_size`` 1-100 (default 50, anything else 422); ``after`` is an opaque cursor; ``links.next``
is the request path with ONLY ``after`` (sort, include, page_size, filters are not carried: a
client that follows it blindly gets the defaults back). The cursor is an offset into the listing
as it is when the next page is asked for, so items added, removed or reshuffled between two pages
can be skipped or repeated, as with any offset cursor.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse

from sandbox.errors import ApiProblem, invalid
from sandbox.views import INCLUDES

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class PageParams:
    page_size: int
    offset: int
    include_total_count: bool
    sort: str | None
    includes: frozenset[str]


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = text.partition(":")
        offset = int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ApiProblem(400, "Invalid cursor in after", "/after") from None
    if prefix != "offset" or offset < 0:
        raise ApiProblem(400, "Invalid cursor in after", "/after")
    return offset


def parse_bool(value: str | None, name: str) -> bool:
    if value is None or value == "":
        return False
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise invalid(f"{name} must be true or false", f"/{name}")


def parse_includes(value: str | None, allow_lists: bool, allowed: frozenset[str] = INCLUDES) -> frozenset[str]:
    """The ``include`` query value; one documented value, or a comma list when the knob allows."""
    if not value:
        return frozenset()
    items = [item.strip() for item in value.split(",")] if allow_lists else [value]
    bad = [item for item in items if item not in allowed]
    if bad:
        raise invalid(f"Invalid include value: {', '.join(bad)}", "/include")
    return frozenset(items)


def _page_size(value: str | None) -> int:
    if value is None:
        return DEFAULT_PAGE_SIZE
    try:
        size = int(value)
    except ValueError:
        raise invalid("page_size must be an integer between 1 and 100", "/page_size") from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise invalid("page_size must be an integer between 1 and 100", "/page_size")
    return size


def page_params(request: Request, sorts: Sequence[str], allow_include_lists: bool) -> PageParams:
    query = request.query_params
    sort = query.get("sort") or None
    if sort is not None and sort not in sorts:
        raise invalid(f"Invalid sort value: {sort}", "/sort")
    after = query.get("after")
    return PageParams(
        page_size=_page_size(query.get("page_size")),
        offset=decode_cursor(after) if after else 0,
        include_total_count=parse_bool(query.get("include_total_count"), "include_total_count"),
        sort=sort,
        includes=parse_includes(query.get("include"), allow_include_lists),
    )


SortKey = Callable[[Any], Any]


def sort_items(items: list[T], sort: str, keys: dict[str, SortKey]) -> list[T]:
    """Sort by ``<key>_asc`` / ``<key>_desc``; ties broken by id so pages are deterministic."""
    field, _, way = sort.rpartition("_")
    key = keys[field]
    ordered = sorted(items, key=lambda item: str(getattr(item, "id", "")))
    return sorted(ordered, key=key, reverse=way == "desc")


def time_key(name: str) -> SortKey:
    def key(item: Any) -> datetime:
        value: datetime = getattr(item, name)
        return value

    return key


ASSET_SORT_KEYS: dict[str, SortKey] = {
    "name": lambda item: str(item.name).lower(),
    "created_at": time_key("created_at"),
    "updated_at": time_key("updated_at"),
    "file_size": lambda item: int(getattr(item, "file_size", 0)),
}


def page_body(request: Request, params: PageParams, items: list[Any], render: Callable[[Any], Any]) -> dict[str, Any]:
    """``{"data": [...], "links": {"next"}, "total_count"?}`` for one page of ``items``."""
    end = params.offset + params.page_size
    chunk = items[params.offset : end]
    next_link = f"{request.url.path}?after={encode_cursor(end)}" if end < len(items) else None
    body: dict[str, Any] = {"data": [render(item) for item in chunk], "links": {"next": next_link}}
    if params.include_total_count:
        body["total_count"] = len(items)
    return body


def page_response(request: Request, params: PageParams, items: list[Any], render: Callable[[Any], Any]) -> JSONResponse:
    return JSONResponse(page_body(request, params, items, render))
