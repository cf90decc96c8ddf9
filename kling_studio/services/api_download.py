"""Fetching a result video: streamed, capped, resumable across restarts, verified, renamed into place.

The bytes go to ``.<name>.part`` beside the destination (same file system, so the final rename
is atomic; the name derives from the job, so a restarted app finds it again), a chunk at a time
(memory stays flat whatever the size). A partial file left by a dropped connection, a stopped
app or a killed process is continued with ``Range: bytes=N-``; a server that answers 200 instead
gets the whole file written from zero. The video is asked for as stored (``identity``): a
compressed answer is refused, so every byte counted against ``max_bytes`` is a byte of the file.
The finished file must have the announced length and pass ``verify`` (the engine's PyAV probe)
before it takes its name. The partial file is kept when the failure is worth resuming (network,
5xx, the deadline, cancellation) and removed otherwise; ``OSError`` (a full disk, say) removes it
and propagates untouched so the engine can say what happened to the disk.

Speed: the network is read 1 MiB at a time with two copies fewer (``http_reads``); the loop only
counts bytes, checks the cap and hands each chunk to a worker thread that writes it and starts
its writeback (``write_behind``); the file is fsynced once, at the end.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import httpx

from kling_studio.services.api_body import raw_chunks, read_capped
from kling_studio.services.api_errors import (
    DownloadError,
    KlingAPIError,
    VideoTooLarge,
    deadline_error,
    error_from_response,
    request_error,
)
from kling_studio.services.http_reads import large_reads
from kling_studio.services.retry import RetryPolicy, is_retryable_read
from kling_studio.services.write_behind import WriteBehind

log = logging.getLogger("kling_studio.api")

ProgressCallback = Callable[[int, int | None], None]
Verifier = Callable[[Path], object]
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)
_UNSATISFIED_RANGE = re.compile(r"^\s*bytes\s+\*/(\d+)\s*$", re.IGNORECASE)
_WHAT = "download the video"
# A server sending something else than a video says so in its Content-Type: stop at once.
_NOT_VIDEO_TYPES = ("text/", "application/json", "application/xml", "application/xhtml")
MB = 1024 * 1024


def check_download_url(url: str) -> httpx.URL:
    """Refuse anything but an absolute http(s) URL (no file:, data:, ftp: …)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise DownloadError(f"The result link is not a valid URL ({exc}).", next_step="Check the job again.") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise DownloadError(
            f"The result link uses {parsed.scheme or 'no'} scheme; only http(s) links are downloaded.",
            next_step="Check the job again; if the link stays like this, report it.",
        )
    return parsed


def temp_path_for(dest: Path) -> Path:
    return dest.parent / f".{dest.name}.part"


def _flush_sync_close(fh: BinaryIO) -> None:
    fh.flush()
    os.fsync(fh.fileno())
    fh.close()


def _open_part_in(folder: Path, part: Path) -> tuple[BinaryIO, int]:
    folder.mkdir(parents=True, exist_ok=True)
    return _open_part(part)


def _open_part(part: Path) -> tuple[BinaryIO, int]:
    """The partial file (kept from an earlier try or an earlier run) and its length."""
    try:
        fh: BinaryIO = open(part, "r+b")  # noqa: SIM115 - closed by download_file
    except FileNotFoundError:
        return open(part, "wb"), 0
    return fh, fh.seek(0, os.SEEK_END)


@dataclass
class _Progress:
    written: int = 0
    total: int | None = None
    resumable: bool = False


class _Dropped(Exception):
    """The body ended early; carries the typed error to retry or raise."""

    def __init__(self, error: KlingAPIError) -> None:
        super().__init__(error.message)
        self.error = error


class _Complete(Exception):
    """A resume found the partial file already whole (the server answered 416 for its length)."""


def _expected_total(response: httpx.Response, offset: int) -> int | None:
    if response.status_code == 206:
        match = _CONTENT_RANGE.match(response.headers.get("content-range", ""))
        if match and match.group(3) != "*":
            return int(match.group(3))
    length = response.headers.get("content-length")
    if length is not None and length.strip().isdigit():
        return offset + int(length)
    return None


def _refused(status: int, message: str) -> DownloadError:
    return DownloadError(f"The result link could not be fetched (HTTP {status}). {message}", status=status)


def _too_large(size: int, max_bytes: int, *, announced: bool) -> VideoTooLarge:
    how = "announces" if announced else "has passed"
    return VideoTooLarge(
        f"The video {how} {size / MB:.0f} MB, over the {max_bytes / MB:.0f} MB limit; the download was stopped "
        "and the partial file removed."
    )


def _worth_resuming(exc: BaseException) -> bool:
    """Keep the partial file: the next try (or the next run of the app) continues it."""
    if isinstance(exc, asyncio.CancelledError):
        return True
    if isinstance(exc, VideoTooLarge | OSError):
        return False
    return isinstance(exc, KlingAPIError) and (is_retryable_read(exc) or exc.retryable)


async def download_file(
    http: httpx.AsyncClient,
    url: str,
    dest: Path,
    *,
    policy: RetryPolicy,
    sleep: Callable[[float], Awaitable[None]],
    headers: Mapping[str, str],
    on_progress: ProgressCallback | None = None,
    secret: str | None = None,
    max_bytes: int | None = None,
    verify: Verifier | None = None,
    deadline: float | None = None,
) -> Path:
    target = check_download_url(url)
    dest = Path(dest)
    part = temp_path_for(dest)
    # File-system calls (mkdir, open, fsync, close, rename) run in a thread: on a busy disk each
    # can block for tens of milliseconds, and the loop must not wait on them.
    fh, kept = await asyncio.to_thread(_open_part_in, dest.parent, part)
    # Whatever is on disk from before is resumed with a Range; a 200 answer restarts it.
    state = _Progress(written=kept, resumable=kept > 0)
    if kept:
        log.info("Resuming the download of %s from %d bytes kept from an earlier try.", dest.name, kept)
    try:
        try:
            async with asyncio.timeout(deadline):
                await _fetch_with_retries(
                    http, target, fh, state, headers, on_progress, secret, max_bytes, policy, sleep
                )
        except TimeoutError:
            raise deadline_error(what=_WHAT, host=target.host, seconds=deadline or 0) from None
        # Durable before the rename, so a crash never leaves a short file under the final name.
        await asyncio.to_thread(_flush_sync_close, fh)
        if verify is not None:
            try:
                await asyncio.to_thread(verify, part)
            except KlingAPIError:
                _remove(part)  # a whole but damaged file: the next try starts from zero
                raise
        await asyncio.to_thread(os.replace, part, dest)
    except BaseException as exc:
        fh.close()
        if not (_worth_resuming(exc) and state.written > 0):
            _remove(part)
        raise
    return dest


def _remove(part: Path) -> None:
    try:
        part.unlink(missing_ok=True)
    except OSError:
        log.warning("Could not remove the partial download %s", part)


async def _fetch_with_retries(
    http: httpx.AsyncClient,
    target: httpx.URL,
    fh: BinaryIO,
    state: _Progress,
    headers: Mapping[str, str],
    on_progress: ProgressCallback | None,
    secret: str | None,
    max_bytes: int | None,
    policy: RetryPolicy,
    sleep: Callable[[float], Awaitable[None]],
) -> None:
    failures = 0
    while True:
        before = state.written
        try:
            await _fetch_once(http, target, fh, state, headers, on_progress, secret, max_bytes)
            return
        except _Complete:
            return
        except _Dropped as dropped:
            error = dropped.error
        except KlingAPIError as exc:
            error = exc
        # A try that moved the file forward resets the count: a slow, flaky link still finishes.
        failures = 1 if state.written > before else failures + 1
        if not (error.retryable or is_retryable_read(error)) or failures >= policy.max_attempts:
            raise error
        delay = policy.delay(failures, error.retry_after)
        log.warning(
            "Download interrupted at %d bytes (%s); %s in %.1f s.",
            state.written,
            error.message,
            "resuming" if state.resumable and state.written else "starting again",
            delay,
        )
        await sleep(delay)


async def _fetch_once(
    http: httpx.AsyncClient,
    url: httpx.URL,
    fh: BinaryIO,
    state: _Progress,
    base_headers: Mapping[str, str],
    on_progress: ProgressCallback | None,
    secret: str | None,
    max_bytes: int | None,
) -> None:
    """One GET; writes into ``fh`` from ``state.written`` (resume) or from zero (restart)."""
    headers = dict(base_headers)
    # Ask for the file as stored, so byte counts and ranges mean file bytes.
    headers["Accept-Encoding"] = "identity"
    offset = state.written if state.resumable else 0
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        async with http.stream("GET", url, headers=headers, follow_redirects=True) as response:
            status = response.status_code
            if status == 416 and offset:
                unsatisfied = _UNSATISFIED_RANGE.match(response.headers.get("content-range", ""))
                if unsatisfied and int(unsatisfied.group(1)) == offset:
                    state.total = offset
                    raise _Complete()  # the kept part already holds the whole file
                # Our offset is past what the server has: start over without a range.
                state.resumable = False
                raise _Dropped(DownloadError("The server refused to resume the download.", retryable=True))
            if status >= 400:
                body = await read_capped(response, what=_WHAT, strict=False)
                error = error_from_response(response, what=_WHAT, secret=secret, body=body)
                if is_retryable_read(error):
                    raise error
                raise _refused(status, error.message) from None
            if status not in (200, 206):
                raise DownloadError(f"The result link answered HTTP {status} instead of the video.", status=status)
            _check_answer(response)
            if status == 206:
                match = _CONTENT_RANGE.match(response.headers.get("content-range", ""))
                if not offset or not match or int(match.group(1)) != offset:
                    # A range we did not ask for (or none): distrust it and start over.
                    state.resumable = False
                    state.written = 0
                    fh.seek(0)
                    fh.truncate()
                    raise _Dropped(DownloadError("The server sent the wrong part of the file.", retryable=True))
            else:
                offset = 0  # a 200 is the whole file, even when we asked for a range
            fh.seek(offset)
            fh.truncate()
            state.written = offset
            state.total = _expected_total(response, offset)
            if max_bytes is not None and state.total is not None and state.total > max_bytes:
                raise _too_large(state.total, max_bytes, announced=True)
            state.resumable = status == 206 or response.headers.get("accept-ranges", "").strip().lower() == "bytes"
            if on_progress is not None:
                on_progress(state.written, state.total)
            # Identity only (checked above): raw bytes are the file's bytes, no decoder in between.
            writer = WriteBehind(fh, state.written)  # the writes run in a worker thread
            # Held until this function returns, after the answer is closed: a loop left while
            # suspended elsewhere (cancelled waiting for a write) must not have its generators
            # finalised at once, mid-answer, in another task (httpcore then awaits in GeneratorExit).
            chunks = raw_chunks(response)
            try:
                with large_reads(response):
                    async for chunk in chunks:
                        if not chunk:
                            continue
                        after = state.written + len(chunk)
                        if max_bytes is not None and after > max_bytes:
                            raise _too_large(after, max_bytes, announced=False)
                        if state.total is not None and after > state.total:
                            raise DownloadError(
                                f"The server sent more bytes ({after}) than it announced ({state.total}).",
                            )
                        await writer.write(chunk)
                        state.written = after
                        if on_progress is not None:
                            on_progress(writer.done, state.total)
            finally:
                # Every handed-over byte is in the file before anything else touches it (a
                # retry's seek, the close); a failed write (a full disk) is raised here.
                await writer.drain()
            if on_progress is not None and writer.done > offset:
                on_progress(writer.done, state.total)
    except (httpx.TransportError, httpx.DecodingError) as exc:
        error = request_error(exc, what=_WHAT, host=url.host)
        if not error.retryable:
            raise error from None
        raise _Dropped(error) from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:  # redirect loops, bad Location headers …
        raise request_error(exc, what=_WHAT, host=url.host) from None
    if state.total is not None and state.written < state.total:
        raise _Dropped(
            DownloadError(
                f"The download stopped at {state.written} of {state.total} bytes.",
                retryable=True,
            )
        )


def _check_answer(response: httpx.Response) -> None:
    """Refuse what cannot be the video as stored: a compressed body, a web page, a JSON error."""
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise DownloadError(
            f"The result link sent the video compressed ({encoding}) although it was asked for as stored; "
            "it was refused, because its size could not be checked while writing.",
        )
    content_type = response.headers.get("content-type", "").strip().lower()
    if content_type.startswith(_NOT_VIDEO_TYPES):
        raise DownloadError(
            f"The result link sent {content_type.split(';')[0]}, not an MP4 video.",
            next_step="Check the job again; if it keeps happening the service sent something else.",
        )
