"""Shared pieces for the API client tests: a scripted transport and an instant sleep.

(No tests here; the name only keeps the file among the client's test files.)
"""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx

from kling_studio.services.api_client import KlingClient
from kling_studio.services.retry import RetryPolicy

API_KEY = "sk-test-SECRET-0123456789abcdef"
BASE = "https://api.apimart.ai"

Reply = Callable[[httpx.Request], httpx.Response]


def reply(
    status: int = 200,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
) -> Reply:
    """A fresh response per request (JSON body unless raw ``content`` is given)."""

    def make(request: httpx.Request) -> httpx.Response:
        if content is not None:
            return httpx.Response(status, headers=headers, content=content)
        return httpx.Response(status, headers=headers, json=body)

    return make


def fail(exc: Exception) -> Reply:
    def make(request: httpx.Request) -> httpx.Response:
        raise exc

    return make


class Script:
    """Answers requests in order (the last answer repeats) and keeps every request it saw."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        index = min(len(self.requests) - 1, len(self.replies) - 1)
        return self.replies[index](request)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


class Sleeps:
    """An instant ``sleep`` that remembers how long it was asked to wait."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def make_client(
    script: Script,
    sleeps: Sleeps | None = None,
    *,
    api_key: str | None = API_KEY,
    attempts: int = 6,
    **kwargs: Any,
) -> KlingClient:
    return KlingClient(
        api_key,
        BASE,
        transport=script.transport,
        retry=RetryPolicy(max_attempts=attempts, rng=random.Random(7)),
        sleep=sleeps or Sleeps(),
        **kwargs,
    )


def error_body(code: int, message: str, etype: str = "invalid_request_error", **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "type": etype, **extra}}


def task_body(**data: Any) -> dict[str, Any]:
    return {"code": 200, "data": {"id": "task_01", **data}}


def json_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


def mp4_bytes(size: int, seed: int = 1) -> bytes:
    """Bytes that pass the MP4 check (an ``ftyp`` box first), then noise."""
    head = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
    rng = random.Random(seed)
    return head + rng.randbytes(max(0, size - len(head)))


class DroppingStream(httpx.AsyncByteStream):
    """Sends ``data`` in small pieces and then breaks the connection."""

    def __init__(self, data: bytes, piece: int = 4096) -> None:
        self.data = data
        self.piece = piece

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for i in range(0, len(self.data), self.piece):
            yield self.data[i : i + self.piece]
        raise httpx.ReadError("connection reset by peer")


class FileServer:
    """Serves one file like a CDN, optionally honouring Range, optionally dropping the first reply."""

    def __init__(self, payload: bytes, *, ranges: bool, drop_first_after: int | None = None) -> None:
        self.payload = payload
        self.ranges = ranges
        self.drop_first_after = drop_first_after
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        total = len(self.payload)
        start = 0
        status = 200
        headers = {"Content-Type": "video/mp4"}
        if self.ranges:
            headers["Accept-Ranges"] = "bytes"
            wanted = request.headers.get("range")
            if wanted:
                start = int(wanted.removeprefix("bytes=").split("-")[0])
                status = 206
                headers["Content-Range"] = f"bytes {start}-{total - 1}/{total}"
        body = self.payload[start:]
        headers["Content-Length"] = str(len(body))
        if self.drop_first_after is not None and len(self.requests) == 1:
            return httpx.Response(status, headers=headers, stream=DroppingStream(body[: self.drop_first_after]))
        return httpx.Response(status, headers=headers, content=body)
