"""Downloads against a hostile server: capped, resumed across restarts, verified with PyAV.

The engine runs for real (store, runner, client) against ``FakeKling`` on 127.0.0.1, whose
video route misbehaves in the way each test names. A video is ``done`` only when the probe
decoded its first and last frame and its length matches the request.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path

import pytest

from kling_studio.domain.jobs import JobState
from kling_studio.services.api_client import KlingClient
from kling_studio.services.api_errors import DownloadError, NetworkError, ProtocolError, VideoTooLarge
from kling_studio.services.job_engine import JobEngine
from kling_studio.services.retry import Deadlines, RetryPolicy
from kling_studio.services.settings import MAX_VIDEO_ENV
from kling_studio.services.video_probe import probe_video
from tests.services.test_engine_support import FAST_RETRY, make_engine, read_text, storyboard, wait_done, wait_until
from tests.services.test_hostile_support import (
    SUBMITTED,
    FakeKling,
    Handler,
    HostileServer,
    Request,
    head,
    make_mp4,
    send_json,
    serve_file,
    trickle,
)

S = JobState


def read_bytes(path: str | None) -> bytes:
    return Path(str(path)).read_bytes()


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


async def run_one(engine: JobEngine, seconds: int = 3) -> str:
    await engine.start()
    job = await engine.submit_storyboard(storyboard(seconds=seconds))
    return job.id


async def finish(fake: FakeKling, tmp_path: Path, seconds: int = 3, **kwargs: object) -> tuple[JobEngine, str]:
    """Start an engine against ``fake`` (already served) and submit one job."""
    engine = make_engine(fake.base, tmp_path, **kwargs)  # type: ignore[arg-type]
    return engine, await run_one(engine, seconds)


async def serve(fake: FakeKling) -> HostileServer:
    server = HostileServer(fake)
    await server.__aenter__()
    fake.base = server.url
    return server


@pytest.fixture
def clip(tmp_path: Path) -> bytes:
    return make_mp4(tmp_path / "clip-src.mp4", 3)


# §2: the cap on the video's size


async def test_a_video_over_max_video_mb_is_stopped_removed_and_the_job_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MAX_VIDEO_ENV, "1")
    big = make_mp4(tmp_path / "big.mp4", 3, size=(320, 240))
    assert len(big) > 2 * 1024 * 1024
    fake = FakeKling(video=serve_file(big, ranges=False, length=False))  # no length: only counting stops it
    server = await serve(fake)
    try:
        engine, job_id = await finish(fake, tmp_path)
        try:
            (job,) = await wait_done(engine, [job_id])
        finally:
            await engine.stop()
    finally:
        await server.__aexit__(None, None, None)
    assert job.state == S.NEEDS_ATTENTION and job.error_code == "video_too_large"
    assert "over the 1 MB limit" in (job.error_message or "")
    assert "KLING_STUDIO_MAX_VIDEO_MB" in (job.error_message or "")
    assert files_in(tmp_path / "library") == []  # no video, no .part
    assert fake.seen.count(f"GET {fake.video_path}") == 1  # not retried by itself


async def test_an_announced_length_over_the_cap_stops_before_writing(tmp_path: Path, clip: bytes) -> None:
    async with HostileServer(serve_file(clip)) as server, KlingClient(None, server.url) as client:
        with pytest.raises(VideoTooLarge, match="announces"):
            await client.download(f"{server.url}/v.mp4", tmp_path / "out" / "v.mp4", max_bytes=len(clip) - 1)
    assert files_in(tmp_path / "out") == []


async def test_a_gzip_encoded_video_is_refused(tmp_path: Path, clip: bytes) -> None:
    import gzip

    packed = gzip.compress(clip)

    async def gzipped(request: Request, writer: asyncio.StreamWriter) -> None:
        headers = {"Content-Type": "video/mp4", "Content-Encoding": "gzip", "Content-Length": str(len(packed))}
        writer.write(head(200, headers) + packed)

    async with HostileServer(gzipped) as server, KlingClient(None, server.url) as client:
        with pytest.raises(DownloadError, match=r"compressed \(gzip\)"):
            await client.download(f"{server.url}/v.mp4", tmp_path / "out" / "v.mp4")
    assert server.requests[0].headers["accept-encoding"] == "identity"
    assert files_in(tmp_path / "out") == []


# §2: interrupted downloads resume across restarts


@pytest.mark.parametrize("expired", [False, True])
async def test_an_interrupted_download_resumes_with_range_after_a_restart(tmp_path: Path, expired: bool) -> None:
    """Restarted while the link is valid: continued with a Range. After it expired: the part goes."""
    video = make_mp4(tmp_path / "src.mp4", 3, size=(320, 240))
    half = len(video) // 2
    hold = asyncio.Event()

    async def first_half_then_silence(request: Request, writer: asyncio.StreamWriter) -> None:
        if "range" in request.headers:
            await serve_file(video)(request, writer)
            return
        headers = {"Content-Type": "video/mp4", "Accept-Ranges": "bytes", "Content-Length": str(len(video))}
        writer.write(head(200, headers) + video[:half])
        await writer.drain()
        await hold.wait()  # the app is stopped while this answer hangs

    fake = FakeKling(video=first_half_then_silence)
    server = await serve(fake)
    library = tmp_path / "library"
    try:
        engine, job_id = await finish(fake, tmp_path)
        try:
            for _ in range(600):
                parts = list(library.rglob(".*.part"))
                if parts and parts[0].stat().st_size >= half:
                    break
                await asyncio.sleep(0.05)
            else:
                pytest.fail("the first half never reached the .part file")
        finally:
            await engine.stop()  # the app quits mid-download
        (part,) = library.rglob(".*.part")
        kept = part.stat().st_size
        assert kept == half

        later = (lambda: time.time() + 7200) if expired else time.time  # the link lives an hour
        again = make_engine(fake.base, tmp_path, clock=later)
        await again.start()
        try:
            (job,) = await wait_done(again, [job_id])
        finally:
            await again.stop()
    finally:
        hold.set()
        await server.__aexit__(None, None, None)
    videos = [r for r in server.requests if r.path == fake.video_path]
    assert list(library.rglob(".*.part")) == []
    if expired:
        assert job.state == S.EXPIRED and len(videos) == 1
        return
    assert len(videos) == 2
    assert "range" not in videos[0].headers
    assert videos[1].headers["range"] == f"bytes={kept}-"
    assert job.state == S.DONE
    assert read_bytes(job.video_path) == video


# §3: verified, not sniffed


def cut_without_length(data: bytes, *, times: int) -> Handler:
    """The first ``times`` answers send 60 % of the file with no Content-Length, then close."""
    count = [0]

    async def handler(request: Request, writer: asyncio.StreamWriter) -> None:
        count[0] += 1
        if count[0] > times:
            await serve_file(data, ranges=False)(request, writer)
            return
        writer.write(head(200, {"Content-Type": "video/mp4"}) + data[: len(data) * 6 // 10])

    return handler


async def test_a_body_cut_short_without_length_is_damaged_and_the_job_says_so(tmp_path: Path, clip: bytes) -> None:
    fake = FakeKling(video=cut_without_length(clip, times=99))
    server = await serve(fake)
    try:
        engine, job_id = await finish(fake, tmp_path)
        try:
            (job,) = await wait_done(engine, [job_id])
        finally:
            await engine.stop()
    finally:
        await server.__aexit__(None, None, None)
    assert job.state == S.NEEDS_ATTENTION and job.error_code == "video_damaged"
    assert "damaged" in (job.error_message or "") and "3 times" in (job.error_message or "")
    assert fake.seen.count(f"GET {fake.video_path}") == 3
    assert files_in(tmp_path / "library") == []


async def test_a_body_cut_short_once_is_fetched_again_and_done(tmp_path: Path, clip: bytes) -> None:
    fake = FakeKling(video=cut_without_length(clip, times=1))
    server = await serve(fake)
    try:
        engine, job_id = await finish(fake, tmp_path)
        try:
            (job,) = await wait_done(engine, [job_id])
        finally:
            await engine.stop()
    finally:
        await server.__aexit__(None, None, None)
    assert job.state == S.DONE
    assert read_bytes(job.video_path) == clip


async def test_a_body_shorter_than_its_length_is_resumed_not_done(tmp_path: Path, clip: bytes) -> None:
    count = [0]

    async def short_then_ranges(request: Request, writer: asyncio.StreamWriter) -> None:
        count[0] += 1
        if count[0] == 1:
            headers = {"Content-Type": "video/mp4", "Accept-Ranges": "bytes", "Content-Length": str(len(clip))}
            writer.write(head(200, headers) + clip[:1000])
            return
        await serve_file(clip)(request, writer)

    fake = FakeKling(video=short_then_ranges)
    server = await serve(fake)
    try:
        engine, job_id = await finish(fake, tmp_path)
        try:
            (job,) = await wait_done(engine, [job_id])
        finally:
            await engine.stop()
    finally:
        await server.__aexit__(None, None, None)
    videos = [r for r in server.requests if r.path == fake.video_path]
    assert [v.headers.get("range") for v in videos] == [None, "bytes=1000-"]
    assert job.state == S.DONE and read_bytes(job.video_path) == clip


async def test_a_video_of_the_wrong_length_is_damaged(tmp_path: Path, clip: bytes) -> None:
    fake = FakeKling(video=serve_file(clip))  # 3 s, for a 5 s job
    server = await serve(fake)
    try:
        engine, job_id = await finish(fake, tmp_path, seconds=5)
        try:
            (job,) = await wait_done(engine, [job_id])
        finally:
            await engine.stop()
    finally:
        await server.__aexit__(None, None, None)
    assert job.state == S.NEEDS_ATTENTION and job.error_code == "video_damaged"
    assert "lasts 3.00 s instead of the 5 s" in (job.error_message or "")


async def test_the_sidecar_records_the_probe(tmp_path: Path) -> None:
    video = make_mp4(tmp_path / "src.mp4", 3, audio=True)
    fake = FakeKling(video=serve_file(video))
    server = await serve(fake)
    try:
        engine, job_id = await finish(fake, tmp_path)
        try:
            (job,) = await wait_done(engine, [job_id])
        finally:
            await engine.stop()
    finally:
        await server.__aexit__(None, None, None)
    assert job.state == S.DONE
    sidecar = json.loads(read_text(job.sidecar_path))
    assert sidecar["video"] == {"codec": "h264", "width": 160, "height": 120, "fps": 24.0, "duration": 3.0,
                                "audio": True}  # fmt: skip


# §2: no httpx failure ends as an unexpected error


@pytest.mark.parametrize("location", ["loop", "http://[::1", "ftp://example.com/x.mp4"])
async def test_a_bad_redirect_on_download_is_a_typed_error_without_a_traceback(
    tmp_path: Path, location: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def redirect(request: Request, writer: asyncio.StreamWriter) -> None:
        target = request.path if location == "loop" else location
        writer.write(head(302, {"Location": target, "Content-Length": "0"}))

    caplog.set_level(logging.DEBUG)
    fake = FakeKling(video=redirect)
    server = await serve(fake)
    try:
        engine, job_id = await finish(fake, tmp_path)
        try:
            (job,) = await wait_until(engine, job_id, lambda j: j.state == S.NEEDS_ATTENTION)
        finally:
            await engine.stop()
    finally:
        await server.__aexit__(None, None, None)
    assert job.error_code in ("protocol_error", "download_error"), job.error_message
    assert "Unexpected error" not in (job.error_message or "")
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    async with (
        HostileServer(redirect) as direct,
        KlingClient(None, direct.url, retry=RetryPolicy(max_attempts=1)) as client,
    ):
        with pytest.raises((ProtocolError, DownloadError)):
            await client.download(f"{direct.url}/v.mp4", tmp_path / "d" / "v.mp4")


# §2 + contract §4: a submit that outlives its deadline is an unknown outcome, never a new job


async def test_a_trickling_submit_needs_attention_and_check_again_reuses_the_key(tmp_path: Path, clip: bytes) -> None:
    keys: list[str] = []

    async def submit(request: Request, writer: asyncio.StreamWriter) -> None:
        keys.append(request.headers["idempotency-key"])
        if len(keys) == 1:
            await trickle(writer, json.dumps(SUBMITTED).encode(), every=0.5)
        else:
            await send_json(writer, SUBMITTED)

    fake = FakeKling(video=serve_file(clip), submit=submit)
    server = await serve(fake)

    def factory(url: str, key: str | None) -> KlingClient:
        return KlingClient(key, url, retry=FAST_RETRY, deadlines=Deadlines(api=1.0))

    try:
        engine, job_id = await finish(fake, tmp_path, client_factory=factory)
        try:
            (job,) = await wait_until(engine, job_id, lambda j: j.state == S.NEEDS_ATTENTION)
            assert job.task_id is None and "may or may not have started" in (job.error_message or "")
            assert "longer than 1 s" in (job.error_message or "")
            assert len(keys) == 1
            await engine.check_again(job_id)
            (done,) = await wait_done(engine, [job_id])
        finally:
            await engine.stop()
    finally:
        await server.__aexit__(None, None, None)
    assert done.state == S.DONE
    assert keys == [done.idempotency_key, done.idempotency_key]


async def test_a_trickling_download_hits_its_deadline_keeps_its_part_and_is_retryable(
    tmp_path: Path, clip: bytes
) -> None:
    async def one_byte_a_tick(request: Request, writer: asyncio.StreamWriter) -> None:
        headers = {"Content-Type": "video/mp4", "Accept-Ranges": "bytes", "Content-Length": str(len(clip))}
        writer.write(head(200, headers))
        for byte in clip:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.1)

    dest = tmp_path / "out" / "v.mp4"
    async with (
        HostileServer(one_byte_a_tick) as server,
        KlingClient(None, server.url, deadlines=Deadlines(download=1.5)) as client,
    ):
        with pytest.raises(NetworkError, match=r"longer than 1\.5 s") as info:
            await asyncio.wait_for(client.download(f"{server.url}/v.mp4", dest), 30)
    assert info.value.retryable
    kept = files_in(tmp_path / "out")
    assert kept == [".v.mp4.part"]  # the next try continues from here


async def test_a_part_already_whole_is_finished_on_416_without_fetching_again(tmp_path: Path, clip: bytes) -> None:
    """Killed after the last byte but before the rename: the server says the range starts at the end."""

    async def ranged(request: Request, writer: asyncio.StreamWriter) -> None:
        start = int(request.headers["range"].removeprefix("bytes=").split("-")[0])
        assert start == len(clip)
        writer.write(head(416, {"Content-Range": f"bytes */{len(clip)}", "Content-Length": "0"}))

    dest = tmp_path / "out" / "v.mp4"
    dest.parent.mkdir()
    (dest.parent / ".v.mp4.part").write_bytes(clip)
    async with HostileServer(ranged) as server, KlingClient(None, server.url) as client:
        await client.download(f"{server.url}/v.mp4", dest, verify=lambda p: probe_video(p, 3))
    assert len(server.requests) == 1
    assert files_in(tmp_path / "out") == ["v.mp4"]
    assert read_bytes(str(dest)) == clip


@pytest.mark.parametrize("how", ["cancel", "remove"])
async def test_cancelling_or_removing_a_job_mid_download_leaves_no_partial_file(
    tmp_path: Path, clip: bytes, how: str
) -> None:
    """Nothing will continue the download of a cancelled or removed job: its ``.part`` goes too."""
    half = len(clip) // 2

    async def half_then_stall(request: Request, writer: asyncio.StreamWriter) -> None:
        headers = {"Content-Type": "video/mp4", "Accept-Ranges": "bytes", "Content-Length": str(len(clip))}
        writer.write(head(200, headers) + clip[:half])
        await writer.drain()
        await asyncio.sleep(60)

    fake = FakeKling(half_then_stall)
    server = await serve(fake)
    engine, job_id = await finish(fake, tmp_path)
    try:
        library = tmp_path / "library"
        for _ in range(400):  # the half arrives, then the server goes quiet
            parts = [p for p in library.rglob("*.part") if p.stat().st_size >= half]
            if parts:
                break
            await asyncio.sleep(0.05)
        assert parts, "the download never started"
        assert (job := engine.get(job_id)) is not None and job.state == S.DOWNLOADING
        if how == "cancel":
            await engine.cancel(job_id)
            assert (job := engine.get(job_id)) is not None and job.state == S.CANCELLED
        else:
            await engine.remove(job_id)
        assert [p.name for p in library.rglob("*") if p.is_file()] == []
    finally:
        await engine.stop()
        await server.__aexit__(None, None, None)
