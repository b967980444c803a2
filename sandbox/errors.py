"""Frame.io's error answers: ``{"errors": [{"detail", "title", "source": {"pointer"}}]}``.

The shape is the one every 4xx model of the SDK parses (``frameio/types/bad_request*.py`` and
siblings); the guide's example uses ``"title": "Invalid value"`` with a JSON pointer.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    422: "Invalid value",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ApiProblem(Exception):
    """An error answer raised from deep inside a handler."""

    def __init__(self, status: int, detail: str, pointer: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.pointer = pointer

    def body(self) -> dict[str, Any]:
        return error_body(self.status, self.detail, self.pointer)


def error_body(status: int, detail: str, pointer: str | None = None) -> dict[str, Any]:
    """The JSON body of an error answer."""
    error: dict[str, Any] = {"detail": detail, "title": TITLES.get(status, "Error")}
    if pointer is not None:
        error["source"] = {"pointer": pointer}
    return {"errors": [error]}


def error_response(status: int, detail: str, pointer: str | None = None) -> JSONResponse:
    return JSONResponse(error_body(status, detail, pointer), status_code=status)


def not_found(kind: str, ident: str) -> ApiProblem:
    return ApiProblem(404, f"{kind} {ident} not found")


def invalid(detail: str, pointer: str | None = None) -> ApiProblem:
    return ApiProblem(422, detail, pointer)
