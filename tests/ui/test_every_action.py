"""Every QAction of the window, triggered the way a menu click does, on an empty and on a full
project: nothing may reach ``sys.excepthook`` (the "Something went wrong" dialog) or the loop's
exception handler. Modal dialogs the actions open are closed by a watcher, as a person would."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QObject, QTimer, QUrl, Slot
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import QApplication, QDialog, QMenu
from shiboken6 import isValid

from kling_studio.domain.storyboard import FirstFrame, GenerationSettings, Shot, Storyboard
from kling_studio.ui.queue_demo import DemoEngine, demo_engine
from kling_studio.ui.storyboard_document import new_storyboard

from .studio_helpers import make_window, wait_until, write_image


class DialogCloser(QTimer):
    """Rejects whatever modal dialog or popup menu is up, remembering its title."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []
        self.setInterval(20)
        self.timeout.connect(self._close)
        self.start()

    def _close(self) -> None:
        popup = QApplication.activePopupWidget()
        if isinstance(popup, QMenu):
            popup.close()
        modal = QApplication.activeModalWidget()
        if isinstance(modal, QDialog) and modal.isVisible():
            self.seen.append(modal.windowTitle())
            modal.reject()


class UrlRecorder(QObject):
    """Stands in for the desktop's file manager and player (``QDesktopServices.openUrl``)."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url.toString())


def full_storyboard(tmp_path: Path) -> Storyboard:
    frame = write_image(tmp_path / "frame.png", (1280, 720))
    shots = tuple(Shot(f"Shot {i}: the harbour wakes, gulls over the pier, camera drifts", 2) for i in range(1, 7))
    return Storyboard(
        title="Full",
        shots=shots,
        settings=GenerationSettings(resolution="1080p", watermark=False),
        first_frame=FirstFrame(path=str(frame)),
    )


async def trigger_all(window: Any, skip: set[str]) -> list[str]:
    """Trigger each enabled action from a plain Qt callback (a modal dialog's nested loop must not
    run inside this test's task). Quit goes last: it closes the window."""
    triggered: list[str] = []
    done = asyncio.Event()
    actions = [a for a in window.findChildren(QAction) if a is not window.studio_actions.quit]
    assert len(actions) > 30  # the window's, the docks', the panels' and the line edits' actions

    def run() -> None:
        for action in actions:
            if not isValid(action) or not action.isEnabled() or action.text() in skip:
                continue
            triggered.append(action.text() or action.objectName() or "(icon action)")
            action.trigger()
            QApplication.processEvents()
        done.set()

    QTimer.singleShot(0, run)
    await asyncio.wait_for(done.wait(), 60)
    await asyncio.sleep(0.3)  # let spawned tasks (submit, retry, attach) finish
    return triggered


@pytest.mark.parametrize("full", [False, True], ids=["empty", "full"])
async def test_every_action_can_be_triggered_without_an_error(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, full: bool
) -> None:
    errors: list[str] = []
    monkeypatch.setattr(sys, "excepthook", lambda t, e, tb: errors.append(f"{t.__name__}: {e}"))
    loop = asyncio.get_running_loop()
    previous_handler = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, ctx: errors.append(str(ctx.get("exception") or ctx["message"])))
    urls = UrlRecorder()
    QDesktopServices.setUrlHandler("file", urls, "open")
    closer = DialogCloser()
    try:
        engine = demo_engine(tmp_path / "media")[0] if full else DemoEngine(is_local=True)
        window = make_window(qtbot, engine=engine)  # type: ignore[arg-type]
        window.attach_job_panels(engine)  # type: ignore[arg-type]
        if full:
            project = tmp_path / "full.kling.json"
            window.document.load(full_storyboard(tmp_path), str(project))
            await wait_until(lambda: window.document.first_frame_check() is not None)
            panels = window.job_panels
            assert panels is not None
            assert panels.queue.select_job("demo-0")
            panels.takes.set_project_path("/projects/harbour.kling.json")  # the demo takes' project
            assert panels.takes.select_take("demo-0")
        else:
            window.document.load(new_storyboard(), None)
        triggered = await trigger_all(window, skip=set())
        # A second round reaches what the first enabled (Undo, Redo, Submit after edits).
        triggered += await trigger_all(window, skip=set())
        assert len(triggered) > 60
        assert "Settings" in closer.seen and "Save project" in closer.seen  # dialogs did open
        if full:
            assert urls.opened  # Show in folder / Open in system player went to the desktop (here: us)
        window.studio_actions.quit.trigger()
        await wait_until(lambda: not window.isVisible())
    finally:
        closer.stop()
        QDesktopServices.unsetUrlHandler("file")
        loop.set_exception_handler(previous_handler)
    assert "Something went wrong" not in closer.seen
    assert errors == []
