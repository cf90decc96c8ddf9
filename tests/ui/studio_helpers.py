"""Shared pieces for the studio-window tests: a fake engine, a window factory, async waiting."""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from kling_studio.domain.compiler import compile_storyboard
from kling_studio.domain.job_record import EVENT_CREATED, JobEvent, JobRecord
from kling_studio.domain.jobs import JobState
from kling_studio.domain.project_file import storyboard_to_snapshot
from kling_studio.domain.storyboard import Shot, Storyboard
from kling_studio.services.engine_api import JobListener
from kling_studio.services.paths import app_paths
from kling_studio.services.settings import AppSettings
from kling_studio.ui.main_window import StudioWindow


class FakeEngine:
    """The JobEngineAPI shape, in memory: submit records a queued job and tells listeners."""

    def __init__(self) -> None:
        self.submitted: list[Storyboard] = []
        self._jobs: dict[str, JobRecord] = {}
        self._listeners: list[JobListener] = []

    @property
    def is_local(self) -> bool:
        return True

    @property
    def backend_label(self) -> str:
        return "Local preview — no credits spent"

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def subscribe(self, listener: JobListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def jobs(self) -> list[JobRecord]:
        return list(self._jobs.values())

    def job_summaries(self) -> list[JobRecord]:
        return self.jobs()

    def get(self, job_id: str) -> JobRecord | None:
        return self._jobs.get(job_id)

    async def submit_storyboard(self, storyboard: Storyboard, *, project_path: str | None = None) -> JobRecord:
        compiled = compile_storyboard(storyboard)
        if not compiled.ok:
            raise ValueError("\n".join(d.message for d in compiled.errors))
        await asyncio.sleep(0)
        self.submitted.append(storyboard)
        now = time.time()
        job = JobRecord(
            id=f"job-{len(self.submitted)}",
            idempotency_key=f"key-{len(self.submitted)}",
            title=storyboard.title,
            project_path=project_path,
            backend="local",
            state=JobState.QUEUED,
            mode=compiled.mode,
            duration=storyboard.total_duration,
            resolution=storyboard.settings.resolution,
            request=compiled.request,
            storyboard=storyboard_to_snapshot(storyboard),
            created_at=now,
            updated_at=now,
        )
        self._jobs[job.id] = job
        for listener in list(self._listeners):
            listener(JobEvent(EVENT_CREATED, job))
        return job

    async def retry(self, job_id: str) -> JobRecord:
        raise NotImplementedError

    async def check_again(self, job_id: str) -> None:
        return None

    async def cancel(self, job_id: str) -> None:
        return None

    async def remove(self, job_id: str, *, delete_files: bool = False) -> None:
        return None

    async def set_flags(self, job_id: str, *, starred: bool | None = None, rejected: bool | None = None) -> None:
        return None


def make_window(qtbot: Any, engine: FakeEngine | None = None, settings: AppSettings | None = None) -> StudioWindow:
    stored: list[AppSettings] = []
    window = StudioWindow(
        settings or AppSettings(banner_dismissed=True),
        engine=engine if engine is not None else FakeEngine(),
        paths=app_paths().ensure(),
        store_settings=stored.append,
    )
    window.stored_settings = stored  # type: ignore[attr-defined]
    # Closing at teardown must never block on a modal question.
    window.files.ask_save_changes = lambda: QMessageBox.StandardButton.Discard  # type: ignore[method-assign]
    window.files.show_error = lambda title, text: window.show_message(f"{title}: {text}")  # type: ignore[method-assign]
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()  # window shortcuts only fire in the active window
    QApplication.processEvents()
    return window


def storyboard(*shots: tuple[str, int], title: str = "Test") -> Storyboard:
    return Storyboard(title=title, shots=tuple(Shot(t, d) for t, d in shots))


def load(window: StudioWindow, sb: Storyboard) -> None:
    window.document.load(sb, None)


async def wait_until(predicate: Callable[[], bool], seconds: float = 5.0) -> None:
    """Wait on the running qasync loop (qtbot.waitUntil would spin a nested loop inside a task)."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def file_size(path: str) -> int:
    return Path(path).stat().st_size


def write_image(path: Path, size: tuple[int, int], color: tuple[int, int, int] = (90, 120, 200)) -> Path:
    Image.new("RGB", size, color).save(path)
    return path


def drag_and_drop(target: QWidget, mime: QMimeData, pos: QPointF, action: Qt.DropAction) -> QDropEvent:
    """Send the enter/move/drop sequence a real drag produces (Qt ignores a drop with no enter)."""
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    with warnings.catch_warnings():  # PySide6 6.11 takes only a QPoint here; 6.12 deprecates it
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(pos.toPoint(), action, mime, buttons, mods)
        QApplication.sendEvent(target, enter)
        if enter.isAccepted():
            QApplication.sendEvent(target, QDragMoveEvent(pos.toPoint(), action, mime, buttons, mods))
    drop = QDropEvent(pos, action, mime, buttons, mods)
    QApplication.sendEvent(target, drop)
    return drop


def drop_files(target: QWidget, *paths: Path) -> QDropEvent:
    """Simulate dragging files from a file manager and dropping them on ``target``."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return drag_and_drop(target, mime, QPointF(target.rect().center()), Qt.DropAction.CopyAction)


def focused() -> QWidget:
    """The widget keys go to, as a person types (fails loudly when nothing has focus)."""
    widget = QApplication.focusWidget()
    assert widget is not None, "no widget has keyboard focus"
    return widget


def to_pil(image: Any) -> Image.Image:
    """A QImage as a Pillow RGB image (for pixel arithmetic without numpy)."""
    from PySide6.QtGui import QImage

    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    data = bytes(rgb.constBits())[: rgb.sizeInBytes()]
    return Image.frombuffer("RGB", (rgb.width(), rgb.height()), data, "raw", "RGB", rgb.bytesPerLine(), 1)


def luminance(rgb: tuple[int, int, int]) -> float:
    """WCAG relative luminance of an sRGB colour."""

    def lin(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = rgb[:3]
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)
