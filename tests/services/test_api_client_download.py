"""Downloads: streamed to a temp file, resumed or restarted, checked, renamed into place."""

from __future__ import annotations

import errno
import resource
import signal
from pathlib import Path

import httpx
import pytest

from kling_studio.services.api_errors import DownloadError, NetworkError, ServerError
from kling_studio.services.video_probe import VideoDamaged, probe_video
from tests.services.test_api_client_support import (
    API_KEY,
    DroppingStream,
    FileServer,
    Script,
    Sleeps,
    fail,
    make_client,
    mp4_bytes,
    reply,
)

CDN = "https://upload.apimart.ai/f/video/task_01.mp4"
SIZE = 300_000


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


async def test_download_writes_the_file_and_reports_progress(tmp_path: Path) -> None:
    payload = mp4_bytes(SIZE)
    server = FileServer(payload, ranges=True)
    progress: list[tuple[int, int | None]] = []
    dest = tmp_path / "out" / "clip.mp4"
    async with make_client(Script(server)) as client:
        result = await client.download(CDN, dest, on_progress=lambda done, total: progress.append((done, total)))
    assert result == dest
    assert dest.read_bytes() == payload
    assert leftovers(dest.parent) == ["clip.mp4"]
    assert progress[-1] == (SIZE, SIZE)
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)
    (sent,) = server.requests
    assert sent.method == "GET"
    assert str(sent.url) == CDN
    assert "Range" not in sent.headers


async def test_a_dropped_download_resumes_with_range_when_supported(tmp_path: Path) -> None:
    payload = mp4_bytes(SIZE)
    server = FileServer(payload, ranges=True, drop_first_after=120_000)
    sleeps = Sleeps()
    dest = tmp_path / "clip.mp4"
    async with make_client(Script(server), sleeps) as client:
        await client.download(CDN, dest)
    assert dest.read_bytes() == payload
    assert len(server.requests) == 2
    assert "Range" not in server.requests[0].headers
    assert server.requests[1].headers["Range"] == "bytes=120000-"
    assert len(sleeps.calls) == 1
    assert leftovers(tmp_path) == ["clip.mp4"]


async def test_a_dropped_download_restarts_from_zero_without_range_support(tmp_path: Path) -> None:
    payload = mp4_bytes(SIZE)
    server = FileServer(payload, ranges=False, drop_first_after=120_000)
    dest = tmp_path / "clip.mp4"
    async with make_client(Script(server)) as client:
        await client.download(CDN, dest)
    assert dest.read_bytes() == payload
    assert len(server.requests) == 2
    assert all("Range" not in r.headers for r in server.requests)


async def test_a_server_ignoring_range_on_resume_gives_a_whole_fresh_file(tmp_path: Path) -> None:
    payload = mp4_bytes(SIZE)

    def first(request: httpx.Request) -> httpx.Response:
        headers = {"Accept-Ranges": "bytes", "Content-Length": str(SIZE)}
        return httpx.Response(200, headers=headers, stream=DroppingStream(payload[:50_000]))

    script = Script(first, reply(200, content=payload, headers={"Accept-Ranges": "bytes"}))
    dest = tmp_path / "clip.mp4"
    async with make_client(script) as client:
        await client.download(CDN, dest)
    assert script.requests[1].headers["Range"] == "bytes=50000-"
    assert dest.read_bytes() == payload


async def test_a_short_body_is_caught_by_the_length_check_and_fetched_again(tmp_path: Path) -> None:
    payload = mp4_bytes(SIZE)
    script = Script(
        reply(200, content=payload[:1000], headers={"Content-Length": str(SIZE)}),
        reply(200, content=payload),
    )
    dest = tmp_path / "clip.mp4"
    async with make_client(script) as client:
        await client.download(CDN, dest)
    assert dest.read_bytes() == payload
    assert len(script.requests) == 2


async def test_a_file_that_is_not_mp4_is_refused_and_cleaned_up(tmp_path: Path) -> None:
    page = b"<!DOCTYPE html><html><body>Link expired</body></html>"
    script = Script(reply(200, content=page, headers={"Content-Type": "text/html"}))
    dest = tmp_path / "clip.mp4"
    async with make_client(script) as client:
        with pytest.raises(DownloadError, match=r"not .*MP4"):
            await client.download(CDN, dest)
    assert leftovers(tmp_path) == []
    assert len(script.requests) == 1


async def test_a_tiny_non_mp4_file_is_refused_by_the_probe(tmp_path: Path) -> None:
    script = Script(reply(200, content=b"ok"))
    async with make_client(script) as client:
        with pytest.raises(VideoDamaged, match="not an MP4"):
            await client.download(CDN, tmp_path / "clip.mp4", verify=probe_video)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://upload.apimart.ai/x.mp4", "data:video/mp4;base64,AAAA", "javascript:alert(1)",
     "/relative/x.mp4", "not a url"],
)  # fmt: skip
async def test_a_link_that_is_not_http_is_refused(tmp_path: Path, url: str) -> None:
    script = Script(reply(200, content=mp4_bytes(100)))
    async with make_client(script) as client:
        with pytest.raises(DownloadError):
            await client.download(url, tmp_path / "clip.mp4")
    assert script.requests == []
    assert leftovers(tmp_path) == []


async def test_an_expired_link_is_a_download_error_without_retry(tmp_path: Path) -> None:
    script = Script(reply(403, content=b"<Error><Code>AccessDenied</Code></Error>"))
    sleeps = Sleeps()
    async with make_client(script, sleeps) as client:
        with pytest.raises(DownloadError) as info:
            await client.download(CDN, tmp_path / "clip.mp4")
    assert info.value.status == 403
    assert len(script.requests) == 1
    assert sleeps.calls == []
    assert leftovers(tmp_path) == []


async def test_server_errors_are_retried_then_reported(tmp_path: Path) -> None:
    payload = mp4_bytes(SIZE)
    script = Script(reply(503, content=b"busy", headers={"Retry-After": "4"}), reply(200, content=payload))
    sleeps = Sleeps()
    async with make_client(script, sleeps) as client:
        await client.download(CDN, tmp_path / "clip.mp4")
    assert sleeps.calls == [4.0]

    script = Script(reply(502, content=b"bad gateway"))
    async with make_client(script, attempts=3) as client:
        with pytest.raises(ServerError):
            await client.download(CDN, tmp_path / "again.mp4")
    assert len(script.requests) == 3
    assert leftovers(tmp_path) == ["clip.mp4"]


async def test_the_partial_file_is_kept_when_the_network_never_comes_back_and_resumed_later(
    tmp_path: Path,
) -> None:
    payload = mp4_bytes(SIZE)

    def dropping(request: httpx.Request) -> httpx.Response:
        headers = {"Content-Length": str(SIZE), "Accept-Ranges": "bytes"}
        return httpx.Response(200, headers=headers, stream=DroppingStream(payload[:10_000]))

    script = Script(dropping, fail(httpx.ConnectError("refused")))
    async with make_client(script, attempts=3) as client:
        with pytest.raises(NetworkError):
            await client.download(CDN, tmp_path / "clip.mp4")
    assert leftovers(tmp_path) == [".clip.mp4.part"]
    assert (tmp_path / ".clip.mp4.part").read_bytes() == payload[:10_000]
    later = FileServer(payload, ranges=True)
    async with make_client(Script(later)) as client:
        await client.download(CDN, tmp_path / "clip.mp4")
    assert later.requests[0].headers["Range"] == "bytes=10000-"
    assert leftovers(tmp_path) == ["clip.mp4"]
    assert (tmp_path / "clip.mp4").read_bytes() == payload


async def test_an_existing_partial_file_is_replaced_and_the_final_file_overwritten(tmp_path: Path) -> None:
    payload = mp4_bytes(SIZE)
    dest = tmp_path / "clip.mp4"
    dest.write_bytes(b"old")
    (tmp_path / ".clip.mp4.part").write_bytes(b"stale partial bytes")
    async with make_client(Script(reply(200, content=payload))) as client:
        await client.download(CDN, dest)
    assert dest.read_bytes() == payload
    assert leftovers(tmp_path) == ["clip.mp4"]


async def test_a_full_disk_propagates_as_oserror_and_leaves_nothing(tmp_path: Path) -> None:
    """A real write failure: the file-size limit makes write() fail with EFBIG mid-download."""
    payload = mp4_bytes(4_000_000)
    limit = 1_000_000
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    if hard != resource.RLIM_INFINITY and hard < limit:
        pytest.skip("cannot lower the file-size limit here")
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        async with make_client(Script(reply(200, content=payload))) as client:
            with pytest.raises(OSError, match=r"too large|space") as info:
                await client.download(CDN, tmp_path / "clip.mp4")
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    assert info.value.errno in (errno.EFBIG, errno.ENOSPC)
    assert not isinstance(info.value, DownloadError)
    assert leftovers(tmp_path) == []


async def test_the_key_goes_to_the_api_origin_only(tmp_path: Path) -> None:
    payload = mp4_bytes(1000)
    script = Script(reply(200, content=payload))
    async with make_client(script) as client:
        await client.download(CDN, tmp_path / "a.mp4")
        await client.download("https://api.apimart.ai/v1/files/task_01.mp4", tmp_path / "b.mp4")
    assert "Authorization" not in script.requests[0].headers
    assert script.requests[1].headers["Authorization"] == f"Bearer {API_KEY}"


async def test_a_redirect_to_another_host_drops_the_key(tmp_path: Path) -> None:
    payload = mp4_bytes(1000)

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "api.apimart.ai":
            return httpx.Response(302, headers={"Location": CDN})
        return httpx.Response(200, content=payload)

    script = Script(answer)
    async with make_client(script) as client:
        await client.download("https://api.apimart.ai/v1/files/task_01.mp4", tmp_path / "a.mp4")
    assert [r.url.host for r in script.requests] == ["api.apimart.ai", "upload.apimart.ai"]
    assert "Authorization" not in script.requests[1].headers
    assert (tmp_path / "a.mp4").read_bytes() == payload
