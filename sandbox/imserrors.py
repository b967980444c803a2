"""Adobe IMS's error answer, shared by the token, authorize and revoke stand-ins."""

from __future__ import annotations

from starlette.responses import JSONResponse


class ImsProblem(Exception):
    """An IMS error answer: status, ``error`` and ``error_description``."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{status} {error}: {description}")
        self.status = status
        self.error = error
        self.description = description

    def response(self) -> JSONResponse:
        headers = {"retry-after": "1"} if self.status == 429 else None
        body = {"error": self.error, "error_description": self.description}
        return JSONResponse(body, status_code=self.status, headers=headers)
