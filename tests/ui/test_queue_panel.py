"""The queue panel's actions reach the engine; selection, status text and dialogs behave."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QMessageBox

from kling_studio.domain.job_record import JobRecord
from kling_studio.domain.jobs import JobState
from kling_studio.ui.preview_sample import write_sample_video
from kling_studio.ui.queue_demo import DemoEngine, make_job
from kling_studio.ui.queue_dialogs import CANCEL_WARNING, cancel_box, remove_box
from kling_studio.ui.queue_panel import QueuePanel


class UrlCatcher(QObject):
    """Stands in for the desktop: records what QDesktopServices was asked to open."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


@pytest.fixture
def opened() -> Iterator[UrlCatcher]:
    catcher = UrlCatcher()
    QDesktopServices.setUrlHandler("file", catcher, "open")
    yield catcher
    QDesktopServices.unsetUrlHandler("file")


@pytest.fixture
def video(tmp_path: Path) -> Path:
    return write_sample_video(tmp_path / "library" / "take.mp4", (1, 1), size=(96, 64), fps=8)


def make_panel(qtbot, engine: DemoEngine, **kwargs) -> QueuePanel:
    panel = QueuePanel(engine, **kwargs)
    qtbot.addWidget(panel)
    panel.show()
    return panel


async def settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


@pytest.fixture
def jobs(video: Path) -> dict[str, JobRecord]:
    now = time.time()
    return {
        "done": make_job(
            "Done take",
            state=JobState.DONE,
            job_id="done",
            created_at=now - 50,
            task_id="task_DONE",
            video_path=str(video),
            sidecar_path=str(video.with_suffix(".json")),
            finished_at=now - 10,
            actual_cost_usd=0.56,
        ),
        "attention": make_job(
            "Lost answer", state=JobState.NEEDS_ATTENTION, job_id="attention", created_at=now - 40, task_id="task_NA"
        ),
        "running": make_job("Running", state=JobState.PROCESSING, job_id="running", created_at=now - 30, task_id="t_R"),
    }


async def test_actions_call_the_engine(qtbot, jobs: dict[str, JobRecord]) -> None:
    engine = DemoEngine(list(jobs.values()))
    panel = make_panel(qtbot, engine)
    asked: list[str] = []
    panel.ask_cancel = lambda _parent, job: asked.append(job.id) or True
    panel.ask_remove = lambda _parent, job: (True, True)
    panel.ask_retry = lambda _parent, job: asked.append(f"retry {job.id}") or True

    assert panel.select_job("attention")
    assert panel.action_check_again.isEnabled()
    panel.action_check_again.trigger()
    panel.action_retry.trigger()
    await settle()
    assert ("check_again", "attention") in engine.calls
    assert ("retry", "attention") in engine.calls
    assert panel.model.rowCount() == 4  # the retry is a new row; the old job is kept
    assert asked == ["retry attention"]  # a paid backend: asked first
    asked.clear()

    panel.select_job("running")
    assert not panel.action_check_again.isEnabled()
    assert not panel.action_remove.isEnabled()  # never drop a job the engine is working on
    panel.action_cancel.trigger()
    await settle()
    assert asked == ["running"]
    assert ("cancel", "running") in engine.calls
    assert panel.model.job("running").state is JobState.CANCELLED

    panel.select_job("done")
    panel.action_remove.trigger()
    await settle()
    assert ("remove", ("done", True)) in engine.calls
    assert panel.model.row_of("done") is None
    panel.shutdown()


async def test_declined_dialogs_leave_the_job_alone(qtbot, jobs: dict[str, JobRecord]) -> None:
    engine = DemoEngine(list(jobs.values()))
    panel = make_panel(qtbot, engine)
    panel.ask_cancel = lambda _p, _j: False
    panel.ask_remove = lambda _p, _j: (False, False)
    panel.select_job("running")
    panel.cancel_job()
    panel.select_job("done")
    panel.remove_job()
    await settle()
    assert engine.calls == []
    panel.shutdown()


def test_cancel_dialog_warns_about_billing_and_remove_keeps_files_by_default(qtbot, jobs: dict[str, JobRecord]) -> None:
    box = cancel_box(None, jobs["running"])
    assert box.informativeText() == CANCEL_WARNING
    assert "may still" in CANCEL_WARNING and "billed" in CANCEL_WARNING
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.No)
    remove = remove_box(None, jobs["done"])
    assert remove.checkBox() is not None and not remove.checkBox().isChecked()


def test_show_in_folder_copy_task_id_and_load_into_editor(qtbot, opened: UrlCatcher, jobs, video: Path) -> None:
    engine = DemoEngine(list(jobs.values()))
    panel = make_panel(qtbot, engine)
    panel.select_job("done")
    panel.action_show_in_folder.trigger()
    assert [u.toLocalFile() for u in opened.urls] == [str(video.parent)]

    with qtbot.waitSignal(panel.message) as message:
        panel.action_copy_task_id.trigger()
    assert QGuiApplication.clipboard().text() == "task_DONE"
    assert "task_DONE" in message.args[0]

    with qtbot.waitSignal(panel.load_into_editor_requested) as loaded:
        panel.action_load.trigger()
    assert loaded.args[0] == jobs["done"].storyboard
    assert loaded.args[0]["shots"][0]["duration"] == 2
    panel.shutdown()


async def test_selecting_a_done_job_asks_to_play_it_and_keyboard_works(qtbot, jobs) -> None:
    engine = DemoEngine(list(jobs.values()))
    panel = make_panel(qtbot, engine)
    with qtbot.waitSignal(panel.play_requested) as play:
        panel.select_job("done")
    assert play.args == ["done"]
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow)  # shortcuts only fire in the active window
    panel.view.setFocus()
    with qtbot.waitSignal(panel.play_requested):
        qtbot.keyClick(panel.view, Qt.Key.Key_Return)
    panel.select_job("attention")
    qtbot.keyClick(panel.view, Qt.Key.Key_F5)
    await settle()
    assert engine.calls == [("check_again", "attention")]
    panel.shutdown()


def test_status_text_counts_jobs_in_flight_and_dollars_spent(qtbot, jobs) -> None:
    project = "/p/harbour.kling.json"
    done = jobs["done"]
    from dataclasses import replace

    engine = DemoEngine([replace(done, project_path=project), jobs["running"], jobs["attention"]])
    panel = make_panel(qtbot, engine, project_path=project)
    assert panel.status_text() == "1 job in flight · $0.56 spent today · $0.56 in this project"
    with qtbot.waitSignal(panel.status_text_changed, timeout=2000) as changed:
        engine.change("running", state=JobState.DONE, finished_at=time.time(), actual_cost_usd=1.0)
    assert changed.args[0] == "0 jobs in flight · $1.56 spent today · $0.56 in this project"
    panel.shutdown()


def test_job_finishing_is_announced_for_autoplay(qtbot, jobs, video: Path) -> None:
    engine = DemoEngine(list(jobs.values()))
    panel = make_panel(qtbot, engine)
    with qtbot.waitSignal(panel.job_finished) as finished:
        engine.change("running", state=JobState.DONE, video_path=str(video), finished_at=time.time())
    assert finished.args == ["running"]
    panel.shutdown()


def test_empty_queue_says_what_to_do(qtbot) -> None:
    panel = make_panel(qtbot, DemoEngine())
    assert panel.stack.currentWidget() is panel.empty_label
    assert "Submit a storyboard" in panel.empty_label.text()
    panel.shutdown()
