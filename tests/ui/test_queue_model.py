"""The queue's table model: row-by-row updates from engine events, filters, clock columns, thumbnails."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QTableView

from kling_studio.domain.jobs import JobState
from kling_studio.services.paths import app_paths
from kling_studio.ui.preview_sample import write_sample_video
from kling_studio.ui.queue_demo import DemoEngine, demo_engine, make_job
from kling_studio.ui.queue_job_rows import JOB_ID_ROLE, RAW_ROLE
from kling_studio.ui.queue_table_model import (
    COL_COST,
    COL_ELAPSED,
    COL_PROGRESS,
    COL_REMAINING,
    COL_STATE,
    COL_TITLE,
    STATE_FILTERS,
    QueueFilterProxy,
    QueueTableModel,
)
from kling_studio.ui.queue_thumbnails import thumbnail_path

NOW = 1_800_000_000.0


class Recorder:
    """Every structural signal a model emits, in order."""

    def __init__(self, model: QueueTableModel) -> None:
        self.events: list[tuple[str, object]] = []
        model.modelReset.connect(lambda: self.events.append(("reset", None)))
        model.layoutChanged.connect(lambda *_: self.events.append(("layout", None)))
        model.rowsInserted.connect(lambda _p, first, last: self.events.append(("insert", (first, last))))
        model.rowsRemoved.connect(lambda _p, first, last: self.events.append(("remove", (first, last))))
        model.dataChanged.connect(
            lambda tl, br, _roles=(): self.events.append(("data", (tl.row(), tl.column(), br.row(), br.column())))
        )

    def kinds(self) -> set[str]:
        return {kind for kind, _ in self.events}


@pytest.fixture
def model(qtbot: object) -> QueueTableModel:
    m = QueueTableModel(clock=lambda: NOW)
    yield m
    m.detach()
    m.thumbnails.close()


def test_every_model_passes_qtmodeltester(qtmodeltester, tmp_path: Path) -> None:
    engine, _now = demo_engine(tmp_path)
    model = QueueTableModel()
    model.attach(engine)
    qtmodeltester.check(model)
    proxy = QueueFilterProxy()
    proxy.setSourceModel(model)
    proxy.set_state_filter(STATE_FILTERS[1][1])
    qtmodeltester.check(proxy)
    model.detach()
    model.thumbnails.close()


def test_new_job_is_inserted_on_top_and_updates_touch_only_changed_columns(model: QueueTableModel) -> None:
    old = make_job("Old", created_at=NOW - 100, job_id="old")
    engine = DemoEngine([old])
    model.attach(engine)
    rec = Recorder(model)

    engine.put(make_job("New", created_at=NOW, job_id="new"))
    assert rec.events == [("insert", (0, 0))]
    assert model.index(0, COL_TITLE).data() == "New"
    assert model.index(1, COL_TITLE).data() == "Old"

    rec.events.clear()
    engine.change("old", progress=40, updated_at=NOW - 100)
    assert rec.events == [("data", (1, COL_PROGRESS, 1, COL_PROGRESS))]
    assert model.index(1, COL_PROGRESS).data(RAW_ROLE) == 40

    rec.events.clear()
    engine.change("old", actual_cost_usd=0.56, updated_at=NOW - 100)
    assert rec.events == [("data", (1, COL_COST, 1, COL_COST))]
    assert model.index(1, COL_COST).data() == "$0.56"


def test_burst_of_progress_for_50_jobs_keeps_selection_and_never_resets(qtbot, model: QueueTableModel) -> None:
    jobs = [
        make_job(f"Job {i:02d}", state=JobState.PROCESSING, created_at=NOW - 1000 + i, submitted_at=NOW - 999 + i)
        for i in range(50)
    ]
    engine = DemoEngine(jobs)
    model.attach(engine)
    view = QTableView()
    qtbot.addWidget(view)
    proxy = QueueFilterProxy()
    proxy.setSourceModel(model)
    view.setModel(proxy)
    chosen = jobs[17].id
    index = proxy.mapFromSource(model.index(model.row_of(chosen), COL_STATE))
    view.selectionModel().setCurrentIndex(
        index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
    )
    rec = Recorder(model)
    selection_changes: list[object] = []
    view.selectionModel().selectionChanged.connect(lambda *a: selection_changes.append(a))

    for step in range(1, 11):
        for job in jobs:
            engine.change(job.id, progress=step * 9, remote_status="processing", updated_at=NOW)
    for job in jobs[:5]:
        engine.change(job.id, state=JobState.DOWNLOADING, progress=100, updated_at=NOW)

    assert "reset" not in rec.kinds() and "layout" not in rec.kinds()
    assert rec.kinds() == {"data"}
    assert not selection_changes
    current = view.selectionModel().currentIndex()
    assert current.data(JOB_ID_ROLE) == chosen
    assert view.selectionModel().isRowSelected(current.row(), current.parent())
    assert model.rowCount() == 50
    assert model.job(jobs[30].id).progress == 90


def test_clock_columns_tick_only_for_running_jobs(model: QueueTableModel) -> None:
    running = make_job(
        "Running", state=JobState.PROCESSING, created_at=NOW - 70, submitted_at=NOW - 60, estimated_time=300.0
    )
    done = make_job("Done", state=JobState.DONE, created_at=NOW - 500, submitted_at=NOW - 490, finished_at=NOW - 400)
    engine = DemoEngine([done, running])
    model.attach(engine)
    assert model.is_ticking()
    row = model.row_of(running.id)
    assert model.index(row, COL_ELAPSED).data() == "1:00"
    assert model.index(row, COL_REMAINING).data() == "~4:00"
    assert model.index(model.row_of(done.id), COL_ELAPSED).data() == "1:30"
    rec = Recorder(model)
    model.tick()
    assert rec.events == [("data", (row, COL_ELAPSED, row, COL_REMAINING))]

    engine.change(running.id, state=JobState.DONE, finished_at=NOW, progress=100)
    assert not model.is_ticking()


async def test_removed_job_leaves_its_row(model: QueueTableModel) -> None:
    a, b, c = (make_job(t, created_at=NOW + i, job_id=t) for i, t in enumerate("abc"))
    engine = DemoEngine([a, b, c])
    model.attach(engine)
    rec = Recorder(model)
    await engine.remove("b")
    assert rec.events == [("remove", (1, 1))]
    assert [model.index(r, 0).data(JOB_ID_ROLE) for r in range(2)] == ["c", "a"]
    assert model.row_of("a") == 1


def test_filter_by_state_and_search_by_title(tmp_path: Path) -> None:
    engine, _now = demo_engine(tmp_path)
    model = QueueTableModel()
    model.attach(engine)
    proxy = QueueFilterProxy()
    proxy.setSourceModel(model)

    def titles() -> list[str]:
        return [proxy.index(r, COL_TITLE).data() for r in range(proxy.rowCount())]

    assert proxy.rowCount() == 9
    proxy.set_state_filter(frozenset({JobState.DONE}))
    assert sorted(titles()) == ["Harbour at dawn — take 1", "Harbour at dawn — take 2"]
    proxy.set_search_text("TAKE 2")
    assert titles() == ["Harbour at dawn — take 2"]
    proxy.set_state_filter(None)
    proxy.set_search_text("harbour")
    assert len(titles()) == 3
    # A job that finishes joins the "Done" filter without a reset.
    proxy.set_search_text("")
    proxy.set_state_filter(frozenset({JobState.DONE}))
    engine.change("demo-7", state=JobState.DONE, progress=100)
    assert "Harbour at dawn — take 3" in titles()
    model.detach()
    model.thumbnails.close()


def test_thumbnail_is_made_off_thread_and_cached_in_the_cache_folder(
    qtbot, model: QueueTableModel, tmp_path: Path
) -> None:
    video = write_sample_video(tmp_path / "take.mp4", (1, 1), size=(96, 64), fps=8)
    job = make_job("With video", state=JobState.DONE, video_path=str(video), created_at=NOW)
    model.attach(DemoEngine([job]))
    index = model.index(0, COL_TITLE)
    assert index.data(Qt.ItemDataRole.DecorationRole) is None  # asked, not ready yet
    with qtbot.waitSignal(model.dataChanged, timeout=10_000):
        pass
    pixmap = index.data(Qt.ItemDataRole.DecorationRole)
    assert pixmap is not None and not pixmap.isNull()
    assert thumbnail_path(str(video)).is_file()
    assert thumbnail_path(str(video)).is_relative_to(app_paths().cache_dir)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["take.mp4"]  # nothing beside the user's video


def test_cost_column_prefers_actual_over_estimate(model: QueueTableModel) -> None:
    job = make_job("Costs", created_at=time.time(), estimated_cost_usd=0.56)
    engine = DemoEngine([job])
    model.attach(engine)
    assert model.index(0, COL_COST).data() == "~$0.56"
    engine.change(job.id, actual_cost_usd=0.5)
    assert model.index(0, COL_COST).data() == "$0.50"
    assert model.index(0, COL_COST).data(RAW_ROLE) == 0.5
