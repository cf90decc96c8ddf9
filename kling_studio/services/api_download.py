"""Fetching a result video: streamed, resumable, checked, and moved into place atomically.

The bytes go to ``.<name>.part`` beside the destination (same file system, so the final rename
is atomic), a chunk at a time (memory stays flat whatever the size). A dropped connection
resumes with ``Range`` when the server said it can (``Accept-Ranges: bytes`` or a 206), and
starts again from zero otherwise. The finished file must have the length the server announced
and begin with an MP4 ``ftyp`` box. Any failure removes the partial file; ``OSError`` (a full
disk, say) propagates untouched so the engine can say what happened to the disk.
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

from kling_studio.services.api_errors import (
    DownloadError,
    KlingAPIError,
    error_from_response,
    network_error,
)
from kling_studio.services.retry import RetryPolicy, is_retryable_read

log = logging.getLogger("kling_studio.api")

ProgressCallback = Callable[[int, int | None], None]
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)
_WHAT = "download the video"


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


def _flush_and_sync(fh: BinaryIO) -> None:
    fh.flush()
    os.fsync(fh.fileno())


def _read_head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(8)


def temp_path_for(dest: Path) -> Path:
    return dest.parent / f".{dest.name}.part"


def is_mp4(head: bytes) -> bool:
    """An MP4/MOV file starts with a box whose type (bytes 4–8) is ``ftyp``."""
    return len(head) >= 8 and head[4:8] == b"ftyp"


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


def _expected_total(response: httpx.Response, offset: int) -> int | None:
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        return None  # the announced length counts encoded bytes, not the file's
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
) -> Path:
    target = check_download_url(url)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = temp_path_for(dest)
    state = _Progress()
    try:
        fh = await asyncio.to_thread(open, part, "wb")
        try:
            failures = 0
            while True:
                before = state.written
                try:
                    await _fetch_once(http, target, fh, state, headers, on_progress, secret)
                    break
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
            # Durable before the rename, so a crash never leaves a short file under the final name.
            await asyncio.to_thread(_flush_and_sync, fh)
        finally:
            fh.close()
        head = await asyncio.to_thread(_read_head, part)
        if not is_mp4(head):
            raise DownloadError(
                f"The downloaded file is not an MP4 video (it starts with {head[:8]!r}).",
                next_step="Check the job again; if it keeps happening the service sent something else.",
            )
        os.replace(part, dest)
    except BaseException:
        # Cancelled, refused, disk full: never leave a half file behind; OSError propagates as is.
        try:
            part.unlink(missing_ok=True)
        except OSError:
            log.warning("Could not remove the partial download %s", part)
        raise
    return dest


async def _fetch_once(
    http: httpx.AsyncClient,
    url: httpx.URL,
    fh: BinaryIO,
    state: _Progress,
    base_headers: Mapping[str, str],
    on_progress: ProgressCallback | None,
    secret: str | None,
) -> None:
    """One GET; writes into ``fh`` from ``state.written`` (resume) or from zero (restart)."""
    headers = dict(base_headers)
    # Ask for the file as stored, so byte counts and ranges mean file bytes.
    headers["Accept-Encoding"] = "identity"
    offset = state.written if state.resumable else 0
    if offset:
        headers["Range"] = f"bytes={offset}-"
    host = url.host
    try:
        async with http.stream("GET", url, headers=headers, follow_redirects=True) as response:
            status = response.status_code
            if status == 416 and offset:
                # Our offset is past what the server has: start over without a range.
                state.resumable = False
                raise _Dropped(DownloadError("The server refused to resume the download.", retryable=True))
            if status >= 400:
                await response.aread()
                error = error_from_response(response, what=_WHAT, secret=secret)
                if is_retryable_read(error):
                    raise error
                raise _refused(status, error.message) from None
            if status not in (200, 206):
                raise DownloadError(f"The result link answered HTTP {status} instead of the video.", status=status)
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
            state.resumable = status == 206 or response.headers.get("accept-ranges", "").strip().lower() == "bytes"
            if on_progress is not None:
                on_progress(state.written, state.total)
            async for chunk in response.aiter_bytes():
                if not chunk:
                    continue
                if state.written == 0 and len(chunk) >= 8 and not is_mp4(chunk[:8]):
                    raise DownloadError(
                        f"The result link did not send an MP4 video (it starts with {chunk[:8]!r}).",
                        next_step="Check the job again; if it keeps happening the service sent something else.",
                    )
                fh.write(chunk)
                state.written += len(chunk)
                if state.total is not None and state.written > state.total:
                    raise DownloadError(
                        f"The server sent more bytes ({state.written}) than it announced ({state.total}).",
                    )
                if on_progress is not None:
                    on_progress(state.written, state.total)
    except httpx.UnsupportedProtocol as exc:
        raise DownloadError(f"The result link redirected to a link that is not http(s) ({exc}).") from None
    except httpx.TransportError as exc:
        raise _Dropped(network_error(exc, what=_WHAT, host=host)) from None
    if state.total is not None and state.written < state.total:
        raise _Dropped(
            DownloadError(
                f"The download stopped at {state.written} of {state.total} bytes.",
                retryable=True,
            )
        )
