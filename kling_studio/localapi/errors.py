"""The error envelope of the contract: ``{"error": {"code", "message", "type", "param"?}}``."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

# The ``type`` that goes with each status when nothing more specific applies (contract §4).
DEFAULT_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "payment_required",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    408: "timeout_error",
    413: "invalid_request_error",
    416: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
    502: "bad_gateway",
    503: "server_error",
    504: "server_error",
}


class ApiError(Exception):
    """An answer that is an error; raised anywhere in a handler, rendered by the app."""

    def __init__(
        self,
        status: int,
        message: str,
        type_: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_ or DEFAULT_TYPES.get(status, "invalid_request_error")
        self.param = param
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.status, "message": self.message, "type": self.type}
        if self.param is not None:
            error["param"] = self.param
        return {"error": error}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def error_response(status: int, message: str, type_: str | None = None, param: str | None = None) -> JSONResponse:
    return ApiError(status, message, type_, param).response()
