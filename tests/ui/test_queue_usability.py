"""The queue behaves as people expect, driven by real clicks against the real local server:
Play and a double-click play the take (again, after it ended), an ended take rests on its last
frame, local jobs cost "$0.00 (local)", a local job cut off by the app's end says so in its row
and Retry renders it again for free, and a paid retry names its price first."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QImage
from PySide6.QtMultimedia import QVideoFrame
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox, QToolButton

from kling_studio.domain.jobs import JobState
from kling_studio.domain.storyboard import GenerationSettings, Shot, Storyboard
from kling_studio.localapi.runner import LocalServer
from kling_studio.localapi.server import LocalServerConfig
from kling_studio.services.job_engine import JobEngine
from kling_studio.services.settings import AppSettings
from kling_studio.ui.preview_panel import PreviewPanel
from kling_studio.ui.queue_demo import DemoEngine, demo_engine, make_job
from kling_studio.ui.queue_format import LOCAL_COST, LOCAL_STOPPED
from kling_studio.ui.queue_panel import QueuePanel
from kling_studio.ui.queue_table_model import COL_COST, COL_STATE, COL_TITLE

from .studio_helpers import make_window, wait_until
from .test_queue_end_to_end import QUICK_POLL

STORYBOARD = Storyboard(
    title="Harbour at dawn",
    shots=(Shot("Fog lifts off the harbour water", 1), Shot("A fishing boat leaves the quay", 2)),
    settings=GenerationSettings(resolution="720p"),
)


def tool_button(panel, action) -> QToolButton:
    return next(b for b in panel.findChildren(QToolButton) if b.defaultAction() is action)


def row_centre(panel: QueuePanel, job_id: str) -> QPoint:
    row = panel.model.row_of(job_id)
    assert row is not None
    index = panel.proxy.mapFromSource(panel.model.index(row, COL_TITLE))
    return panel.view.visualRect(index).center()


def cell(panel: QueuePanel, job_id: str, column: int, role: int = Qt.ItemDataRole.DisplayRole) -> object:
    row = panel.model.row_of(job_id)
    assert row is not None
    return panel.model.index(row, column).data(role)


def lit(image: QImage) -> bool:
    """Not a black frame: some sampled pixel is clearly lit."""
    return any(
        image.pixelColor(x, y).lightness() > 60
        for x in range(0, image.width(), max(1, image.width() // 16))
        for y in range(0, image.height(), max(1, image.height() // 16))
    )


class Frames:
    def __init__(self, preview: PreviewPanel) -> None:
        self.images: list[QImage | None] = []
        preview.video.videoSink().videoFrameChanged.connect(self._on_frame)

    def _on_frame(self, frame: QVideoFrame) -> None:
        self.images.append(frame.toImage() if frame.isValid() else None)


async def test_play_and_double_click_play_the_take_and_it_rests_on_its_last_frame(qtbot, tmp_path: Path) -> None:
    with LocalServer(LocalServerConfig(task_seconds=0.3)) as server:
        engine = JobEngine(
            AppSettings(library_dir=str(tmp_path / "library")), base_url=server.base_url, poll_policy=QUICK_POLL
        )
        await engine.start()
        panel = QueuePanel(engine, autoplay=False)
        preview = PreviewPanel()
        for widget in (panel, preview):
            qtbot.addWidget(widget)
            widget.resize(900, 360)
            widget.show()
        panel.attach_preview(preview)
        frames = Frames(preview)
        try:
            job = await engine.submit_storyboard(STORYBOARD)
            await wait_until(lambda: panel.model.job(job.id).state.is_terminal, 30)
            assert panel.model.job(job.id).state is JobState.DONE
            await wait_until(lambda: panel.model.job(job.id).video_path is not None, 5)

            # A click on the row shows and plays the take...
            QTest.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=row_centre(panel, job.id))
            await wait_until(preview.is_playing, 10)
            # ...which plays to its end and rests there on its last frame, not black.
            await wait_until(lambda: not preview.is_playing(), 10)
            await wait_until(lambda: preview.frame_index() > 0 and frames.images[-1] is not None, 5)
            await asyncio.sleep(0.3)
            last = frames.images[-1]
            assert last is not None and lit(last)
            assert preview.frame_index() >= round(preview.duration_ms() * preview.fps() / 1000) - 1

            # Play in the queue plays it again (the same file: no reload to wait for).
            play = tool_button(panel, panel.action_play)
            assert play.isEnabled()
            QTest.mouseClick(play, Qt.MouseButton.LeftButton)
            await wait_until(preview.is_playing, 5)
            await wait_until(lambda: not preview.is_playing(), 10)

            # So does a double-click on the finished row.
            QTest.mouseDClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=row_centre(panel, job.id))
            await wait_until(preview.is_playing, 5)
            preview.toggle_play()
        finally:
            panel.shutdown()
            preview.unload()
            await engine.stop()


async def test_a_local_job_cut_off_by_the_app_says_so_in_its_row_and_retries_free(qtbot, tmp_path: Path) -> None:
    settings = AppSettings(library_dir=str(tmp_path / "library"), task_seconds=60.0)
    first = JobEngine(settings, force_local=True, poll_policy=QUICK_POLL)
    await first.start()
    try:
        job = await first.submit_storyboard(STORYBOARD)
        await wait_until(lambda: first.get(job.id).state is JobState.PROCESSING, 30)
    finally:
        await first.stop()  # the app is closed while the local server renders: the server goes with it

    second = JobEngine(
        AppSettings(library_dir=str(tmp_path / "library"), task_seconds=0.3), force_local=True, poll_policy=QUICK_POLL
    )
    await second.start()
    panel = QueuePanel(second)
    qtbot.addWidget(panel)
    panel.resize(1200, 360)
    panel.show()
    try:
        await wait_until(lambda: panel.model.job(job.id).state.is_terminal, 30)
        assert cell(panel, job.id, COL_STATE) == "Interrupted"
        # In the row itself, in full (the title cell's second line), not only in a tooltip.
        assert str(cell(panel, job.id, COL_TITLE)).endswith(
            "\nThe local preview stopped with the app — Retry renders it again, free"
        )
        assert LOCAL_STOPPED in str(cell(panel, job.id, COL_STATE, Qt.ItemDataRole.ToolTipRole))
        assert cell(panel, job.id, COL_COST) == LOCAL_COST
        assert "$0.00 (local)" in panel.status_text()
        for column in range(panel.model.columnCount()):
            tip = str(cell(panel, job.id, column, Qt.ItemDataRole.ToolTipRole) or "")
            assert "task_not_found" not in tip and "needs_attention" not in tip

        QTest.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=row_centre(panel, job.id))
        retry = tool_button(panel, panel.action_retry)
        assert retry.isEnabled()
        QTest.mouseClick(retry, Qt.MouseButton.LeftButton)  # local: free, so no question
        await wait_until(lambda: panel.model.rowCount() == 2, 5)
        new = panel.model.job_at(0)
        assert new.id != job.id and cell(panel, new.id, COL_COST) == LOCAL_COST
        await wait_until(lambda: panel.model.job(new.id).state is JobState.DONE, 30)
    finally:
        panel.shutdown()
        await second.stop()


async def test_a_cancelled_local_job_can_be_retried(qtbot, tmp_path: Path) -> None:
    # The bundled server runs as its own process (as in the app): its renders never share this one.
    settings = AppSettings(library_dir=str(tmp_path / "library"), task_seconds=30.0)
    engine = JobEngine(settings, force_local=True, poll_policy=QUICK_POLL)
    await engine.start()
    panel = QueuePanel(engine)
    panel.ask_cancel = lambda _parent, _job: True
    qtbot.addWidget(panel)
    panel.resize(1200, 360)
    panel.show()
    try:
        job = await engine.submit_storyboard(STORYBOARD)
        await wait_until(lambda: panel.model.job(job.id).state is JobState.PROCESSING, 30)
        QTest.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=row_centre(panel, job.id))
        QTest.mouseClick(tool_button(panel, panel.action_cancel), Qt.MouseButton.LeftButton)
        await wait_until(lambda: panel.model.job(job.id).state is JobState.CANCELLED, 10)
        retry = tool_button(panel, panel.action_retry)
        assert retry.isEnabled()
        QTest.mouseClick(retry, Qt.MouseButton.LeftButton)  # local: free, so no question first
        await wait_until(lambda: panel.model.rowCount() == 2, 5)
        new = panel.model.job_at(0)
        assert new.id != job.id and new.title == job.title
        assert cell(panel, new.id, COL_COST) == LOCAL_COST
        await engine.cancel(new.id)
    finally:
        panel.shutdown()
        await engine.stop()


async def test_a_paid_retry_names_its_price_first_and_no_means_no(qtbot) -> None:
    now = time.time()
    done = make_job("Harbour", state=JobState.DONE, job_id="done", created_at=now - 60, finished_at=now - 5)
    cancelled = make_job("Pier", state=JobState.CANCELLED, job_id="cancelled", created_at=now - 30)
    engine = DemoEngine([done, cancelled], is_local=False)
    panel = QueuePanel(engine)
    qtbot.addWidget(panel)
    panel.resize(1200, 360)
    panel.show()
    assert cell(panel, "done", COL_COST) == "~$0.56"  # remote: the estimate, not "local"
    questions: list[str] = []

    def answer(button_text: str) -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and box.isVisible():
            questions.append(box.text())
            button = next(b for b in box.buttons() if b.text() == button_text)
            QTest.mouseClick(button, Qt.MouseButton.LeftButton)

    async def click_retry(job_id: str, button_text: str) -> None:
        QTest.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=row_centre(panel, job_id))
        closer = QTimer()
        closer.setInterval(20)
        closer.timeout.connect(lambda: answer(button_text))
        closer.start()
        before = len(questions)
        # The modal loop runs in a plain Qt callback, not inside this test's task.
        QTimer.singleShot(
            0, lambda: QTest.mouseClick(tool_button(panel, panel.action_retry), Qt.MouseButton.LeftButton)
        )
        await wait_until(lambda: len(questions) > before, 5)
        closer.stop()
        await asyncio.sleep(0.05)

    try:
        await click_retry("done", "Don't retry")
        assert questions[-1] == "Retry will cost about $0.56 (5 s at 720p). Retry?"
        assert engine.calls == []
        await click_retry("cancelled", "Retry")
        assert questions[-1] == "Retry will cost about $0.56 (5 s at 720p). Retry?"
        await wait_until(lambda: ("retry", "cancelled") in engine.calls, 5)
    finally:
        panel.shutdown()


def test_local_mode_shows_free_where_it_showed_a_price(qtbot) -> None:
    now = time.time()
    local_done = make_job(
        "Local", state=JobState.DONE, job_id="l", created_at=now - 9, finished_at=now, backend="local"
    )
    engine = DemoEngine([local_done], is_local=True)
    panel = QueuePanel(engine, project_path="/p/a.kling.json")
    qtbot.addWidget(panel)
    assert cell(panel, "l", COL_COST) == LOCAL_COST
    # Whole, not "$0.00 (lo…": the column is as wide as the words plus the cell's margins.
    assert panel.view.columnWidth(COL_COST) >= panel.view.fontMetrics().horizontalAdvance(LOCAL_COST) + 12
    assert "$0.56" not in str(cell(panel, "l", COL_COST, Qt.ItemDataRole.ToolTipRole))
    assert panel.status_text() == "0 jobs in flight · $0.00 (local) spent today · new jobs: $0.00 (local)"
    panel.shutdown()


async def test_in_the_window_play_and_double_click_play_the_take_in_the_preview_dock(qtbot, tmp_path: Path) -> None:
    engine, _now = demo_engine(tmp_path / "media")
    window = make_window(qtbot, engine=engine)  # type: ignore[arg-type]
    window.attach_job_panels(engine)  # type: ignore[arg-type]
    window.resize(1366, 768)
    panels = window.job_panels
    assert panels is not None
    queue, preview = panels.queue, panels.preview
    try:
        QTest.mouseClick(queue.view.viewport(), Qt.MouseButton.LeftButton, pos=row_centre(queue, "demo-1"))
        await wait_until(preview.is_playing, 10)
        assert preview.path() == engine.get("demo-1").video_path
        preview.toggle_play()  # paused by the person...
        await wait_until(lambda: not preview.is_playing(), 5)
        QTest.mouseClick(tool_button(queue, queue.action_play), Qt.MouseButton.LeftButton)  # ...Play plays
        await wait_until(preview.is_playing, 5)
        assert window.preview_dock.isVisible()
        QTest.mouseDClick(queue.view.viewport(), Qt.MouseButton.LeftButton, pos=row_centre(queue, "demo-0"))
        await wait_until(lambda: preview.path() == engine.get("demo-0").video_path and preview.is_playing(), 10)
    finally:
        preview.unload()
