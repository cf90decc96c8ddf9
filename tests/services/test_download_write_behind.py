"""The video's bytes are written in a worker thread while the loop reads on; nothing it promised moves.

Progress reports bytes that are in the ``.part`` file (a process killed after a report keeps
them), a download cancelled mid-stream leaves a ``.part`` that is an exact prefix of the video
and is resumed with ``Range`` into an identical file, and the deadline still stops a stalled
download with its partial file kept. Real loopback servers, real files.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from kling_studio.services import write_behind
from kling_studio.services.api_client import KlingClient
from kling_studio.services.api_download import temp_path_for
from kling_studio.services.api_errors import KlingAPIError, NetworkError
from kling_studio.services.retry import Deadlines, RetryPolicy
from tests.services.test_api_client_support import mp4_bytes
from tests.services.test_hostile_support import Handler, HostileServer, Request, head, serve_file

MB = 1_000_000


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def half_then_wait(data: bytes, sent: asyncio.Event) -> Handler:
    """Sends the first half of the video (as a CDN would, 64 KB at a time), then holds the line open."""

    async def handler(request: Request, writer: asyncio.StreamWriter) -> None:
        headers = {"Content-Type": "video/mp4", "Accept-Ranges": "bytes", "Content-Length": str(len(data))}
        writer.write(head(200, headers))
        half = len(data) // 2
        for at in range(0, half, 65536):
            writer.write(data[at : min(at + 65536, half)])
            await writer.drain()
        sent.set()
        await asyncio.sleep(3600)

    return handler


async def test_progress_never_reports_bytes_that_are_not_in_the_file_yet(tmp_path: Path) -> None:
    data = mp4_bytes(16 * MB, seed=3)
    dest = tmp_path / "v.mp4"
    part = temp_path_for(dest)
    behind: list[tuple[int, int]] = []

    def on_progress(done: int, _total: int | None) -> None:
        on_disk = _size(part) if part.exists() else _size(dest)
        if on_disk < done:
            behind.append((done, on_disk))

    async with HostileServer(serve_file(data)) as server, KlingClient(None, server.url) as client:
        await client.download(f"{server.url}/v.mp4", dest, on_progress=on_progress)
    assert behind == []
    assert dest.read_bytes() == data


async def test_a_download_cancelled_midstream_keeps_an_exact_prefix_and_resumes_with_range(tmp_path: Path) -> None:
    data = mp4_bytes(6 * MB, seed=4)
    dest = tmp_path / "v.mp4"
    sent = asyncio.Event()
    reported: list[int] = []
    quarter = asyncio.Event()

    def on_progress(done: int, _total: int | None) -> None:
        reported.append(done)
        if done >= len(data) // 4:
            quarter.set()

    async with HostileServer(half_then_wait(data, sent)) as server, KlingClient(None, server.url) as client:
        task = asyncio.create_task(client.download(f"{server.url}/v.mp4", dest, on_progress=on_progress))
        await asyncio.wait_for(sent.wait(), 30)
        await asyncio.wait_for(quarter.wait(), 30)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled()
    kept = temp_path_for(dest).read_bytes()
    assert 0 < len(kept) <= len(data) // 2
    assert kept == data[: len(kept)]
    assert len(kept) >= reported[-1]

    async with HostileServer(serve_file(data)) as server, KlingClient(None, server.url) as client:
        await client.download(f"{server.url}/v.mp4", dest)
        (asked,) = server.requests
    assert asked.headers.get("range") == f"bytes={len(kept)}-"
    assert dest.read_bytes() == data
    assert not temp_path_for(dest).exists()


async def test_the_deadline_stops_a_stalled_download_and_keeps_what_arrived(tmp_path: Path) -> None:
    data = mp4_bytes(4 * MB, seed=6)
    dest = tmp_path / "v.mp4"
    sent = asyncio.Event()
    async with HostileServer(half_then_wait(data, sent)) as server:
        client = KlingClient(None, server.url, retry=RetryPolicy(max_attempts=1), deadlines=Deadlines(download=2.0))
        async with client:
            try:
                await client.download(f"{server.url}/v.mp4", dest)
            except KlingAPIError as exc:
                error: KlingAPIError | None = exc
            else:
                error = None
    assert isinstance(error, NetworkError) and "longer than 2 s" in error.message
    kept = temp_path_for(dest).read_bytes()
    assert kept == data[: len(kept)] and len(kept) == len(data) // 2
    assert not dest.exists()


@pytest.mark.skipif(sys.platform != "linux", reason="sync_file_range is Linux's")
def test_the_writeback_kick_is_available_on_linux() -> None:
    # Without it downloads stay correct but the final fsync carries the whole file again.
    assert write_behind._sync_file_range is not None


async def test_downloads_cancelled_while_streaming_leave_prefixes_and_close_cleanly(tmp_path: Path) -> None:
    # Cancelled at six points while the body streams at loopback speed (one may land while a
    # write is in flight): each keeps an exact prefix, and the connection's stream closes in this
    # task, not later from the garbage collector in another (pytest makes that an error here).
    data = mp4_bytes(24 * MB, seed=8)
    async with HostileServer(serve_file(data)) as server, KlingClient(None, server.url) as client:
        for n in range(6):
            dest = tmp_path / f"v{n}.mp4"
            stop_at = (n + 1) * 2 * MB
            reached = asyncio.Event()

            def on_progress(
                done: int, _total: int | None, stop_at: int = stop_at, reached: asyncio.Event = reached
            ) -> None:
                if done >= stop_at:
                    reached.set()

            task = asyncio.create_task(client.download(f"{server.url}/v.mp4", dest, on_progress=on_progress))
            await asyncio.wait_for(reached.wait(), 30)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            kept = temp_path_for(dest).read_bytes()
            assert kept == data[: len(kept)] and len(kept) >= stop_at
        await asyncio.sleep(0.05)  # let any finaliser run inside the test
