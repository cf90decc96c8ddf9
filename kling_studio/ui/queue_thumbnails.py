"""Video thumbnails for the queue and the takes list, made off the GUI thread.

A frame is decoded with PyAV in a worker of a private ``QThreadPool`` and saved next to the
video as ``<video>.thumb.png`` so the next start finds it without decoding again. Only the
GUI thread turns the PNG into a ``QPixmap`` (pixmaps are not thread-safe).
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from PySide6.QtCore import QObject, QThreadPool, Signal
from PySide6.QtGui import QPixmap

log = logging.getLogger("kling_studio.ui.thumbnails")

THUMB_SUFFIX = ".thumb.png"
THUMB_SIZE = (128, 72)
FRAME_AT_SECONDS = 0.5  # a little in, past any fade from black


def thumbnail_path(video_path: str) -> Path:
    return Path(video_path + THUMB_SUFFIX)


def make_thumbnail(video_path: str, size: tuple[int, int] = THUMB_SIZE) -> str | None:
    """Blocking: decode one frame and write the PNG beside the video; returns its path or None."""
    import av  # imported here: only workers need it

    out = thumbnail_path(video_path)
    try:
        if out.exists() and out.stat().st_mtime >= os.stat(video_path).st_mtime:
            return str(out)
        image = None
        with av.open(video_path) as container:
            stream = container.streams.video[0]
            for frame in container.decode(stream):
                image = frame.to_image()  # type: ignore[no-untyped-call]
                if frame.time is None or frame.time >= FRAME_AT_SECONDS:
                    break
        if image is None:
            return None
        image.thumbnail(size)
        tmp = out.with_name(out.name + ".tmp")
        image.save(tmp, format="PNG")
        os.replace(tmp, out)
        return str(out)
    except (OSError, av.FFmpegError, IndexError) as exc:
        log.info("no thumbnail for %s: %s", video_path, exc)
        return None


class _Relay(QObject):
    """Carries a worker's result back to the GUI thread (queued, because it lives there)."""

    done = Signal(str, str)


class ThumbnailCache(QObject):
    """Hands out thumbnails by video path; asks for them once and says when one is ready."""

    ready = Signal(str)  # video path

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)  # thumbnails are a background nicety; keep a core for the GUI
        self._pixmaps: dict[str, QPixmap | None] = {}  # None: asked, pending or impossible
        self._relay = _Relay(self)
        self._relay.done.connect(self._on_done)
        self._closed = False

    def pixmap(self, video_path: str) -> QPixmap | None:
        if video_path in self._pixmaps:
            return self._pixmaps[video_path]
        self._pixmaps[video_path] = None
        if not self._closed:
            relay = self._relay

            def work() -> None:
                result = make_thumbnail(video_path) or ""
                with contextlib.suppress(RuntimeError):  # the cache went away meanwhile
                    relay.done.emit(video_path, result)

            self._pool.start(work)
        return None

    def forget(self, video_path: str) -> None:
        self._pixmaps.pop(video_path, None)

    def wait(self, msecs: int = 10_000) -> bool:
        """Wait for pending thumbnails (tests, benchmarks, shutdown)."""
        return self._pool.waitForDone(msecs)

    def close(self) -> None:
        self._closed = True
        self._pool.clear()
        self._pool.waitForDone(10_000)

    def _on_done(self, video_path: str, thumb: str) -> None:
        if not thumb:
            return
        pixmap = QPixmap(thumb)
        if pixmap.isNull():
            return
        # Stored at 2x the row's icon size: crisp on high-DPI screens, right-sized elsewhere.
        pixmap.setDevicePixelRatio(2.0)
        self._pixmaps[video_path] = pixmap
        self.ready.emit(video_path)
