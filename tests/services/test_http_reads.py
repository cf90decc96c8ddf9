"""The download's fast reads (``services.http_reads``) change nothing a caller can see.

h11's buffer hands over what it holds instead of copying it twice: the extracted bytes and the
buffer left behind must be exactly what h11's own code gives, for bodies with and without a
length. The video's socket is read 1 MiB at a time only while its body is read, then gets its
size back for the pooled connection. Real loopback servers, real ``KlingClient`` downloads.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import httpx
from h11._receivebuffer import ReceiveBuffer

from kling_studio.services import http_reads
from kling_studio.services.api_client import KlingClient
from tests.services.test_api_client_support import mp4_bytes
from tests.services.test_hostile_support import HostileServer, Request, chunk, head, serve_file


def _h11_original(buf: ReceiveBuffer, count: int) -> bytearray | None:
    return http_reads._original_extract_at_most(buf, count)


def test_the_fast_extract_is_installed_for_the_pinned_h11() -> None:
    # Fails on an h11 upgrade: read the new ReceiveBuffer, then move H11_CHECKED along.
    assert http_reads.FAST_EXTRACT
    assert ReceiveBuffer.maybe_extract_at_most is http_reads._extract_at_most


def test_the_fast_extract_gives_what_h11_gives_and_leaves_the_same_buffer() -> None:
    rng = random.Random(13)
    ours, theirs = ReceiveBuffer(), ReceiveBuffer()
    for step in range(400):
        if step % 3 == 0 or not ours:
            data = rng.randbytes(rng.choice((0, 1, 7, 4096, 70_000)))
            if rng.random() < 0.3:
                data += b"\r\nline\r\n\r\n"
            ours += data
            theirs += data
        count = rng.choice((0, 1, 5, len(ours), len(ours) + 9, 1 << 20))
        got, expected = ours.maybe_extract_at_most(count), _h11_original(theirs, count)
        assert (None if got is None else bytes(got)) == (None if expected is None else bytes(expected))
        assert got is None or isinstance(got, bytearray)
        assert bytes(ours) == bytes(theirs) and len(ours) == len(theirs)
        # Line searches start afresh after an extraction, in both.
        assert ours.maybe_extract_next_line() == theirs.maybe_extract_next_line()
        assert bytes(ours) == bytes(theirs)


def test_a_buffer_handed_over_is_not_shared_with_the_next_read() -> None:
    buf = ReceiveBuffer()
    buf += b"first piece"
    out = buf.maybe_extract_at_most(1 << 20)
    assert out == bytearray(b"first piece")
    buf += b"second"
    assert out == bytearray(b"first piece")
    assert bytes(buf) == b"second"


async def test_the_video_socket_reads_large_pieces_only_while_its_body_is_read() -> None:
    data = mp4_bytes(3_000_000)
    async with (
        HostileServer(serve_file(data)) as server,
        httpx.AsyncClient() as http,
        http.stream("GET", f"{server.url}/v.mp4") as response,
    ):
        transport = response.extensions["network_stream"]._stream._transport
        default = type(transport).max_size
        assert default < http_reads.READ_BYTES and transport.max_size == default
        with http_reads.large_reads(response):
            assert transport.max_size == http_reads.READ_BYTES
            body = b"".join([piece async for piece in response.aiter_raw()])
        assert transport.max_size == default
    assert body == data


async def test_a_chunked_video_without_a_length_arrives_whole(tmp_path: Path) -> None:
    data = mp4_bytes(2_500_000, seed=5)
    sizes = [1, 17, 65_536, 300_000, 1 << 20]

    async def chunked(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(head(200, {"Content-Type": "video/mp4", "Transfer-Encoding": "chunked"}))
        at, n = 0, 0
        while at < len(data):
            piece = data[at : at + sizes[n % len(sizes)]]
            writer.write(chunk(piece))
            await writer.drain()
            at, n = at + len(piece), n + 1
        writer.write(b"0\r\n\r\n")

    progress: list[int] = []
    async with HostileServer(chunked) as server, KlingClient(None, server.url) as client:
        dest = await client.download(
            f"{server.url}/v.mp4", tmp_path / "v.mp4", on_progress=lambda done, _t: progress.append(done)
        )
    assert dest.read_bytes() == data
    assert progress[-1] == len(data)


async def test_a_large_video_over_loopback_arrives_whole_with_progress(tmp_path: Path) -> None:
    data = mp4_bytes(12_000_000, seed=9)
    progress: list[tuple[int, int | None]] = []
    async with HostileServer(serve_file(data)) as server, KlingClient(None, server.url) as client:
        dest = await client.download(
            f"{server.url}/v.mp4", tmp_path / "v.mp4", on_progress=lambda d, t: progress.append((d, t))
        )
    assert dest.read_bytes() == data
    assert progress[0] == (0, len(data)) and progress[-1] == (len(data), len(data))
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.mp4"]  # noqa: ASYNC240 - a test's look
