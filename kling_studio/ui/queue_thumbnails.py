"""Video thumbnails for the queue and the takes list, made off the GUI thread.

A frame is decoded with PyAV in a worker thread and saved as a PNG in the XDG cache folder
(``<cache>/thumbnails/<sha1 of the video's absolute path and mtime>.png``), never beside the
user's videos or in an ``--out`` folder; a changed video gets a new key, so a stale picture is
never shown. The worker also reads the PNG into a ``QImage`` at the size shown (images may be
made on any thread); the GUI thread only wraps it in a ``QPixmap`` (pixmaps are not thread-safe).
Pixmaps live in a small LRU (``CACHE_SIZE``): history of any length costs the same memory.
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap

log = logging.getLogger("kling_studio.ui.thumbnails")

THUMB_SIZE = (128, 72)
FRAME_AT_SECONDS = 0.5  # a little in, past any fade from black
CACHE_SIZE = 256  # pixmaps kept (a few screens of rows); older ones are decoded again if scrolled back to
IDLE_SECONDS = 2.0  # a worker waits this long for more before it ends (a scroll asks page by page)


def thumbnail_dir() -> Path:
    from kling_studio.services.paths import app_paths

    return app_paths().cache_dir / "thumbnails"


def thumbnail_path(video_path: str) -> Path:
    """The cached PNG for this video as it is now (raises OSError when the video is gone)."""
    absolute = os.path.abspath(video_path)
    key = f"{absolute}\0{os.stat(absolute).st_mtime_ns}".encode("utf-8", "surrogateescape")
    return thumbnail_dir() / (hashlib.sha1(key).hexdigest() + ".png")


def frame_image(video_path: str, at: float | None) -> Any:
    """Blocking: the first decoded frame at or after ``at`` seconds (None: halfway) as a PIL image,
    or None for a video with no frames. Raises OSError, av.FFmpegError or IndexError (no video)."""
    import av  # late: only a worker with a video to decode loads FFmpeg

    image = None
    with av.open(video_path) as container:
        stream = container.streams.video[0]
        target = float(container.duration or 0) / 2_000_000 if at is None else at
        for frame in container.decode(stream):
            image = frame.to_image()  # type: ignore[no-untyped-call]
            if frame.time is None or frame.time >= target:
                break
    return image


def make_thumbnail(video_path: str, size: tuple[int, int] = THUMB_SIZE) -> str | None:
    """Blocking: decode one frame and write the PNG to the cache; returns its path or None."""
    try:
        out = thumbnail_path(video_path)
        if out.exists():
            return str(out)
    except OSError as exc:  # no video (moved, deleted, other disk): no thumbnail, and no decoder loaded
        log.info("no thumbnail for %s: %s", video_path, exc)
        return None
    import av  # imported late: only workers with a video to decode need FFmpeg in memory

    try:
        image = frame_image(video_path, FRAME_AT_SECONDS)
        if image is None:
            return None
        image.thumbnail(size)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f"{out.name}.{threading.get_ident()}.tmp")
        image.save(tmp, format="PNG")
        os.replace(tmp, out)
        return str(out)
    except (OSError, av.FFmpegError, IndexError) as exc:
        log.info("no thumbnail for %s: %s", video_path, exc)
        return None


class ThumbnailCache(QObject):
    """Hands out thumbnails by video path; asks for them once and says when one is ready.

    One daemon worker thread, started on demand and gone when idle, decodes; results come back
    through a queue the GUI thread drains on a short timer. Qt's thread pool and cross-thread
    ``emit`` are avoided on purpose: in PySide6 6.12 ``QThreadPool.start(callable)`` drops a
    reference to ``None`` per run and a cross-thread ``emit`` one to ``True``, and Python 3.11
    aborts (``none_dealloc``/``bool_dealloc``) once enough have gone.
    """

    ready = Signal(str)  # video path

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # LRU, newest last. None: asked, pending or impossible (a missing video is not retried).
        self._pixmaps: OrderedDict[str, QPixmap | None] = OrderedDict()
        self._todo: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._results: queue.SimpleQueue[tuple[str, QImage | None]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._pending = 0
        self._drain = QTimer(self)
        self._drain.setInterval(40)
        self._drain.timeout.connect(self._collect)
        self._asked: list[str] = []
        self._flush = QTimer(self)
        self._flush.setSingleShot(True)
        self._flush.setInterval(0)
        self._flush.timeout.connect(self._hand_over)
        self._closed = False

    def pixmap(self, video_path: str) -> QPixmap | None:
        pixmaps = self._pixmaps
        if video_path in pixmaps:
            pixmaps.move_to_end(video_path)
            return pixmaps[video_path]
        pixmaps[video_path] = None
        if len(pixmaps) > CACHE_SIZE:
            pixmaps.popitem(last=False)
        if not self._closed:
            # Handed to the worker once per turn of the event loop: a paint asks for a screen of
            # rows, and waking a thread per row would make the scroll share the GIL with it.
            self._asked.append(video_path)
            if not self._flush.isActive():
                self._flush.start()
        return None

    def _hand_over(self) -> None:
        asked, self._asked = self._asked, []
        wanted = [p for p in asked if p in self._pixmaps and self._pixmaps[p] is None]
        if not wanted or self._closed:
            return
        self._pending += len(wanted)
        with self._lock:
            for video_path in wanted:
                self._todo.put(video_path)
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="kling-thumbnails", daemon=True)
                self._worker.start()
        if not self._drain.isActive():
            self._drain.start()

    def __len__(self) -> int:
        """Entries held (pixmaps and paths asked for): never more than ``CACHE_SIZE``."""
        return len(self._pixmaps)

    def forget(self, video_path: str) -> None:
        self._pixmaps.pop(video_path, None)

    def wait(self, msecs: int = 10_000) -> bool:
        """Wait for pending thumbnails and take them in (tests, benchmarks, screenshots)."""
        deadline = time.monotonic() + msecs / 1000
        self._flush.stop()
        self._hand_over()
        self._collect()
        while self._pending > 0 and time.monotonic() < deadline:
            time.sleep(0.01)
            self._collect()
        return self._pending <= 0

    def close(self) -> None:
        self._closed = True
        self._flush.stop()
        self._asked.clear()
        with self._lock:
            while not self._todo.empty():
                self._todo.get_nowait()
                self._pending -= 1
            worker = self._worker
            if worker is not None:
                self._todo.put("")  # wakes the lingering worker so it ends now
        if worker is not None:
            worker.join(10)
        self._drain.stop()

    def _work(self) -> None:
        while True:
            try:
                # Lingers a little: scrolling asks for a page at a time, one thread serves them all.
                video_path = self._todo.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                video_path = ""
            if not video_path or self._closed:  # idle, or woken by ``close``
                with self._lock:
                    if not self._closed and not self._todo.empty():
                        continue
                    self._worker = None  # under the lock: a new request starts a new worker
                    return
            self._results.put((video_path, _load_image(make_thumbnail(video_path))))

    def _collect(self) -> None:
        while True:
            try:
                video_path, thumb = self._results.get_nowait()
            except queue.Empty:
                break
            self._pending -= 1
            self._on_done(video_path, thumb)
        if self._pending <= 0:
            self._drain.stop()

    def _on_done(self, video_path: str, image: QImage | None) -> None:
        if image is None or video_path not in self._pixmaps:  # nothing, or scrolled out of the cache
            return
        pixmap = QPixmap.fromImage(image)
        # Stored at 2x the row's icon size: crisp on high-DPI screens, right-sized elsewhere.
        pixmap.setDevicePixelRatio(2.0)
        self._pixmaps[video_path] = pixmap
        self.ready.emit(video_path)


def _load_image(thumb: str | None) -> QImage | None:
    """Worker side: the PNG read and scaled to the size shown, so the GUI thread does no decoding."""
    if not thumb:
        return None
    image = QImage(thumb)
    if image.isNull():
        return None
    width, height = THUMB_SIZE
    if image.width() > width or image.height() > height:
        image = image.scaled(
            width, height, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
    return image
