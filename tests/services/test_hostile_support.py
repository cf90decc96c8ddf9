"""A hostile HTTP server on 127.0.0.1 for the hardening tests, and real MP4s made with PyAV.

(No tests here; the name only keeps the file among the services' test files.)

``HostileServer`` is a raw asyncio HTTP/1.1 server running on the test's own loop: each handler
writes whatever bytes it likes (a gzip bomb, a body that never ends, one byte a second, half a
video and then silence), which a well-behaved framework would not let it do. ``FakeKling``
answers submit and status like the service and hands the video route to the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from PIL import Image


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


Handler = Callable[[Request, asyncio.StreamWriter], Awaitable[None]]


class HostileServer:
    """One request per connection; keeps every request it saw."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aenter__(self) -> HostileServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._conns):
            task.cancel()
        await asyncio.gather(*self._conns, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
            request = Request(method, path, headers, body)
            self.requests.append(request)
            await self.handler(request, writer)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client hung up: that is what these tests make it do
        finally:
            self._conns.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


def head(status: int, headers: dict[str, str] | None = None, reason: str = "X") -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def send_json(writer: asyncio.StreamWriter, payload: Any, status: int = 200) -> None:
    body = json.dumps(payload).encode()
    writer.write(head(status, {"Content-Type": "application/json", "Content-Length": str(len(body))}) + body)
    await writer.drain()


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


async def gzip_bomb(writer: asyncio.StreamWriter, *, inflated_mib: int = 1024) -> None:
    """About 1 MB of gzip that inflates to ``inflated_mib`` MiB of zeros, sent chunked as it is made."""
    writer.write(
        head(200, {"Content-Type": "application/json", "Content-Encoding": "gzip", "Transfer-Encoding": "chunked"})
    )
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    for _ in range(inflated_mib):
        piece = squeeze.compress(zeros)
        if piece:
            writer.write(chunk(piece))
            await writer.drain()
    writer.write(chunk(squeeze.flush()) + b"0\r\n\r\n")
    await writer.drain()


async def endless_chunked(writer: asyncio.StreamWriter, status: int = 200) -> None:
    """A JSON-looking body that never ends (64 KB chunks for as long as the client reads)."""
    writer.write(head(status, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}))
    writer.write(chunk(b'{"code":200,"data":{"status":"'))
    filler = chunk(b"a" * 65536)
    while True:
        writer.write(filler)
        await writer.drain()


async def trickle(writer: asyncio.StreamWriter, body: bytes, *, every: float = 1.0) -> None:
    """A whole answer, one byte per ``every`` seconds: no single read ever times out."""
    writer.write(head(200, {"Content-Type": "application/json", "Content-Length": str(len(body))}))
    await writer.drain()
    for byte in body:
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(every)


TASK_ID = "task_01HOSTILE"
SUBMITTED = {"code": 200, "data": [{"status": "submitted", "task_id": TASK_ID}]}


@dataclass
class FakeKling:
    """Submit and status like the service; ``video`` serves the result link; ``submit`` may be replaced."""

    video: Handler
    submit: Handler | None = None
    status: Handler | None = None
    video_path: str = f"/files/{TASK_ID}.mp4"
    base: str = ""
    seen: list[str] = field(default_factory=list)

    async def __call__(self, request: Request, writer: asyncio.StreamWriter) -> None:
        self.seen.append(f"{request.method} {request.path}")
        if request.method == "POST" and request.path == "/v1/videos/generations":
            if self.submit is not None:
                await self.submit(request, writer)
            else:
                await send_json(writer, SUBMITTED)
        elif request.path.startswith(f"/v1/tasks/{TASK_ID}"):
            if self.status is not None:
                await self.status(request, writer)
            else:
                await send_json(writer, self.completed())
        elif request.path.startswith(self.video_path):
            await self.video(request, writer)
        else:
            await send_json(writer, {"error": {"code": 404, "message": "no such route"}}, status=404)

    def completed(self) -> dict[str, Any]:
        now = int(time.time())
        url = f"{self.base}{self.video_path}"
        return {
            "code": 200,
            "data": {
                "id": TASK_ID,
                "status": "completed",
                "progress": 100,
                "created": now - 5,
                "completed": now,
                "result": {"videos": [{"url": [url], "expires_at": now + 3600}]},
            },
        }


def serve_file(data: bytes, *, ranges: bool = True, length: bool = True) -> Handler:
    """A CDN: the whole file, or the asked-for range (206) when ``ranges``."""

    async def handler(request: Request, writer: asyncio.StreamWriter) -> None:
        start, status = 0, 200
        headers = {"Content-Type": "video/mp4"}
        wanted = request.headers.get("range")
        if ranges:
            headers["Accept-Ranges"] = "bytes"
            if wanted:
                start = int(wanted.removeprefix("bytes=").split("-")[0])
                status = 206
                headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        body = data[start:]
        if length:
            headers["Content-Length"] = str(len(body))
        writer.write(head(status, headers) + body)
        await writer.drain()

    return handler


def make_mp4(
    path: Path,
    seconds: float = 3,
    *,
    fps: int = 24,
    size: tuple[int, int] = (160, 120),
    audio: bool = False,
    noise: bool = True,
    faststart: bool = True,
) -> bytes:
    """A real H.264 MP4 (noise frames make it big enough to cut); returns its bytes."""
    rng = random.Random(7)
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), "w", format="mp4", options=options) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "g": str(fps)}
        sound = container.add_stream("aac", rate=44100) if audio else None
        for i in range(round(seconds * fps)):
            raw = rng.randbytes(size[0] * size[1] * 3) if noise else bytes([i % 250]) * (size[0] * size[1] * 3)
            frame = av.VideoFrame.from_image(Image.frombytes("RGB", size, raw))  # type: ignore[no-untyped-call]
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        if sound is not None:
            for start in range(0, round(44100 * seconds), 1024):
                piece = av.AudioFrame(format="fltp", layout="mono", samples=1024)
                piece.planes[0].update(bytes(piece.planes[0].buffer_size))
                piece.sample_rate = 44100
                piece.pts = start
                for packet in sound.encode(piece):
                    container.mux(packet)
            for packet in sound.encode():
                container.mux(packet)
    return path.read_bytes()
