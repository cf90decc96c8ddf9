"""Raw ASGI guards around the whole app: request bodies capped while they stream in, and the
response version named on every answer.

The cap works on the ASGI ``receive`` channel, so nothing is buffered or spooled past it: a
declared ``Content-Length`` over the limit is answered 413 before the body is read, and a body
without one (chunked) is counted as it arrives and cut off at the limit. Handlers see an
``ApiError(413)`` raised from ``request.body()``/``request.form()``, which the app renders.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kling_studio.domain.limits import KLING_3_TURBO, MB
from kling_studio.localapi.errors import ApiError

RESPONSE_VERSION_HEADER = "x-apimart-response-version"
OBJECT_RESPONSE_VERSION = "2026-07-27"  # this version and later answer ``data`` as an object
# What the list-shaped answers (the contract's first version) are called in the header.
LIST_RESPONSE_VERSION = "legacy"

JSON_BODY_LIMIT = 1 * MB  # a generation body is a few kB; a data: URI first frame fits too
UPLOAD_ROUTE = "/v1/uploads/images"
MULTIPART_SLACK = 64 * 1024  # room for the multipart framing around a 20 MB file
# A client that declared a body somewhat over the limit is let finish sending it (discarded)
# so that it reads the 413 instead of a reset; a bigger one is answered at once.
_DRAIN_LIMIT = 8 * MB


def answered_version(requested: str | None, object_shape: bool | None = None) -> str:
    """The response version an answer follows: the object shape from 2026-07-27 on."""
    if object_shape is None:
        object_shape = wants_object_version(requested)
    return OBJECT_RESPONSE_VERSION if object_shape else LIST_RESPONSE_VERSION


def wants_object_version(requested: str | None) -> bool:
    version = (requested or "").strip()
    # Dated versions compare as strings; the object shape started on this date.
    return bool(version) and version >= OBJECT_RESPONSE_VERSION


def body_limit(path: str) -> int:
    return KLING_3_TURBO.upload_max_bytes + MULTIPART_SLACK if path == UPLOAD_ROUTE else JSON_BODY_LIMIT


def _mib(size: int) -> str:
    return f"{size / MB:.0f} MB" if size >= MB else f"{size // 1024} kB"


class BodyTooLarge(ApiError):
    def __init__(self, limit: int, declared: int | None = None, upload: bool = False) -> None:
        what = "The image upload" if upload else "The request body"
        limit_text = f"{KLING_3_TURBO.upload_max_bytes // MB} MB" if upload else _mib(limit)
        size = f" is {declared / MB:.1f} MB, which" if declared is not None else ""
        super().__init__(
            413,
            f"{what}{size} is larger than the {limit_text} this server accepts. Send a smaller "
            + ("image." if upload else "body."),
            param="file" if upload else None,
            # Close once answered: otherwise the server would go on reading (and discarding)
            # the rest of a body that may never end.
            headers={"Connection": "close"},
        )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


async def _discard(receive: Receive, budget: int) -> None:
    seen = 0
    while seen <= budget:
        message = await receive()
        if message["type"] != "http.request":
            return
        seen += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        limit = body_limit(path)
        upload = path == UPLOAD_ROUTE
        declared_text = _header(scope, b"content-length")
        declared = int(declared_text) if declared_text is not None and declared_text.isdigit() else None
        if declared is not None and declared > limit:
            if declared <= _DRAIN_LIMIT:
                await _discard(receive, _DRAIN_LIMIT)
            await BodyTooLarge(limit, declared, upload).response()(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit, upload=upload)
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, tracking_send)
        except BodyTooLarge as exc:  # read outside a route (a fault's drain): answer here
            if started:
                raise
            await exc.response()(scope, receive, send)


class ResponseVersionMiddleware:
    """Every answer names the response version it follows (a route may set it more precisely)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        version = answered_version(_header(scope, RESPONSE_VERSION_HEADER.encode()))

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if RESPONSE_VERSION_HEADER not in headers:
                    headers.append(RESPONSE_VERSION_HEADER, version)
            await send(message)

        await self.app(scope, receive, send_with_version)
