"""Bearer-token check: any non-empty token, or exactly the configured key."""

from __future__ import annotations

import hmac

from starlette.requests import Request

from kling_studio.localapi.errors import ApiError


def require_auth(request: Request, api_key: str | None) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(
            401, "missing API key: send 'Authorization: Bearer <key>'", headers={"WWW-Authenticate": "Bearer"}
        )
    if api_key is not None and not hmac.compare_digest(token.encode(), api_key.encode()):
        raise ApiError(401, "invalid API key", headers={"WWW-Authenticate": "Bearer"})
