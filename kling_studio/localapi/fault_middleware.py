"""Raw ASGI middleware that counts requests and injects the transport-level faults.

It sits outside the routes so that an injected 429/5xx never reaches a handler (the request
did not happen), while a ``reset`` lets the handler run and then drops the connection (the
request happened but its answer was lost) — the case idempotency keys exist for.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kling_studio.localapi.connections import abort_connection
from kling_studio.localapi.errors import ApiError
from kling_studio.localapi.faults import CONNECTION_KINDS
from kling_studio.localapi.state import ServerState

_MESSAGES = {
    "429": "too many requests (injected fault); retry later",
    "500": "internal server error (injected fault)",
    "502": "bad gateway (injected fault)",
    "503": "service unavailable (injected fault)",
}


def classify(method: str, path: str) -> str | None:
    """The fault route a request belongs to, or None for requests faults never touch."""
    if path == "/v1/videos/generations" and method == "POST":
        return "submit"
    if path.startswith("/v1/tasks/") and method in ("GET", "HEAD"):
        return "status"
    if path == "/v1/uploads/images" and method == "POST":
        return "upload"
    if path.startswith("/files/") and method in ("GET", "HEAD"):
        return "download"
    if path == "/v1/model-schema" and method in ("GET", "HEAD"):
        return "schema"
    return None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def _seconds_text(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


async def _drain(receive: Receive) -> None:
    """Read the request body so the client is not cut off while still sending it."""
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


async def _drop(scope: Scope) -> None:
    if not await abort_connection(scope):
        raise ConnectionResetError("injected connection reset")


class FaultMiddleware:
    def __init__(self, app: ASGIApp, state: ServerState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = classify(scope["method"], scope["path"])
        if route is None:
            await self.app(scope, receive, send)
            return
        self.state.count_request(route, _header(scope, b"idempotency-key"))
        faults = self.state.faults
        delay = faults.delay(route)
        if delay > 0:
            await asyncio.sleep(delay)
        rule = faults.take(CONNECTION_KINDS, route)
        if rule is not None and rule.kind == "reset":
            await self._reset(scope, receive)
        elif rule is not None:
            await _drain(receive)
            headers = {"Retry-After": _seconds_text(self.state.retry_after)} if rule.kind == "429" else None
            response = ApiError(int(rule.kind), _MESSAGES[rule.kind], headers=headers).response()
            await response(scope, receive, send)
        elif faults.fires("truncate", route):
            await self.app(scope, receive, _TruncatingSend(scope, send))
        else:
            await self.app(scope, receive, send)

    async def _reset(self, scope: Scope, receive: Receive) -> None:
        async def discard(message: Message) -> None:
            return None

        await self.app(scope, receive, discard)
        await _drop(scope)


class _TruncatingSend:
    """Passes the headers (full Content-Length) and half of the body, then drops the connection."""

    def __init__(self, scope: Scope, send: Send) -> None:
        self.scope = scope
        self.send = send
        self.limit: int | None = None
        self.sent = 0
        self.cut = False

    async def __call__(self, message: Message) -> None:
        if self.cut:
            return
        if message["type"] == "http.response.start":
            length = _response_length(message)
            self.limit = None if length is None else length // 2
            await self.send(message)
            return
        if message["type"] != "http.response.body":
            await self.send(message)
            return
        body: bytes = message.get("body", b"")
        if self.limit is None:
            self.limit = len(body) // 2
        room = self.limit - self.sent
        if len(body) < room and message.get("more_body", False):
            self.sent += len(body)
            await self.send(message)
            return
        self.cut = True
        if room > 0:
            await self.send({"type": "http.response.body", "body": body[:room], "more_body": True})
        await _drop(self.scope)


def _response_length(message: Message) -> int | None:
    for key, value in message.get("headers", []):
        if key.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
