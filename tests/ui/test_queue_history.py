"""The queue over a long history in a real job store: light rows, whole records on demand, cheap paint."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QAbstractItemModel, QModelRoleData, QModelRoleDataSpan, Qt
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem

from kling_studio.domain.jobs import JobState
from kling_studio.services.job_engine import JobEngine
from kling_studio.services.job_store import JobStore
from kling_studio.services.job_summary import is_summary
from kling_studio.services.settings import AppSettings
from kling_studio.ui.queue_delegates import state_colour
from kling_studio.ui.queue_demo import DemoEngine, make_job
from kling_studio.ui.queue_job_rows import JOB_ID_ROLE, JOB_ROLE, RAW_ROLE
from kling_studio.ui.queue_panel import QueuePanel
from kling_studio.ui.queue_table_model import COL_COST, COL_PROGRESS, COL_STATE, COL_TITLE
from kling_studio.ui.queue_thumbnails import CACHE_SIZE, ThumbnailCache

S = JobState


def history_engine(tmp_path: Path, count: int) -> tuple[JobEngine, JobStore]:
    store = JobStore(tmp_path / "jobs.sqlite3")
    base = time.time() - count * 60
    for i in range(count):
        store.insert(
            make_job(f"Take {i}", state=S.DONE, job_id=f"hist-{i:03d}", created_at=base + i * 60, progress=100)
        )
    engine = JobEngine(AppSettings(library_dir=str(tmp_path / "library")), store=store, api_key="")
    return engine, store


def test_history_rows_are_light_and_acting_on_one_uses_the_whole_record(qtbot, tmp_path: Path) -> None:
    engine, store = history_engine(tmp_path, 40)
    panel = QueuePanel(engine)
    qtbot.addWidget(panel)
    try:
        assert panel.model.rowCount() == 40
        assert panel.model.index(0, COL_TITLE).data() == "Take 39"  # newest first
        assert all(is_summary(job) for job in panel.model.records())

        loaded: list[dict] = []
        panel.load_into_editor_requested.connect(loaded.append)
        assert panel.select_job("hist-007")
        assert panel.action_load.isEnabled()
        panel.action_load.trigger()
        assert loaded and loaded[0]["title"] == "Take 7" and loaded[0]["shots"]  # the storyboard, whole
        assert not is_summary(panel.model.job("hist-007"))  # kept whole from then on
    finally:
        panel.shutdown()
        store.close()


def test_one_multidata_call_answers_what_data_answers_role_by_role(qtbot) -> None:
    jobs = [make_job("Running", state=S.PROCESSING, progress=40), make_job("Done", state=S.DONE, progress=100)]
    panel = QueuePanel(DemoEngine(jobs))
    qtbot.addWidget(panel)
    roles = [
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.DecorationRole,
        Qt.ItemDataRole.ToolTipRole,
        Qt.ItemDataRole.TextAlignmentRole,
        Qt.ItemDataRole.FontRole,
        Qt.ItemDataRole.CheckStateRole,
        RAW_ROLE,
        JOB_ID_ROLE,
        JOB_ROLE,
    ]
    delegate = _Delegate()

    def same_answers(model: QAbstractItemModel) -> None:
        for row in range(model.rowCount()):
            for column in (COL_TITLE, COL_STATE, COL_PROGRESS, COL_COST):
                index = model.index(row, column)
                for role in roles:
                    item = QModelRoleData(role)
                    model.multiData(index, QModelRoleDataSpan(item))
                    expected, got = index.data(role), item.data()
                    if role == Qt.ItemDataRole.DecorationRole and expected is not None:
                        assert got is not None and not got.isNull()  # an icon: same kind, another wrapper
                    else:
                        assert got == expected, (row, column, role)
                # What a view does: the delegate asks for all its roles in one span.
                option = QStyleOptionViewItem()
                delegate.initStyleOption(option, index)
                assert option.text == (index.data() or "")
                assert option.icon.isNull() == (index.data(Qt.ItemDataRole.DecorationRole) is None)

    try:
        same_answers(panel.model)
        same_answers(panel.proxy)  # unfiltered, unsorted: the proxy's shortcut
        assert panel.model.index(0, COL_TITLE).data() == "Done"  # newest first
        panel.proxy.sort(COL_TITLE, Qt.SortOrder.DescendingOrder)  # "Running" before "Done": rows swap
        assert panel.proxy.index(0, COL_TITLE).data() == "Running"
        same_answers(panel.proxy)
        panel.proxy.sort(-1)
        panel.proxy.set_search_text("run")
        assert panel.proxy.rowCount() == 1
        same_answers(panel.proxy)
    finally:
        panel.shutdown()


class _Delegate(QStyledItemDelegate):
    def initStyleOption(self, option: QStyleOptionViewItem, index: object) -> None:
        super().initStyleOption(option, index)  # type: ignore[arg-type]


def test_the_progress_bar_is_filled_in_the_state_colour(qtbot) -> None:
    panel = QueuePanel(DemoEngine([make_job("Done", state=S.DONE, progress=100)]))
    qtbot.addWidget(panel)
    panel.resize(1000, 300)
    panel.show()
    try:
        rect = panel.view.visualRect(panel.proxy.index(0, COL_PROGRESS))
        image = panel.view.viewport().grab().toImage()
        centre = rect.center()
        # Left of the centred text, on the filled bar.
        colour = image.pixelColor(rect.left() + 8, centre.y())
        assert colour.name() == state_colour(S.DONE).name()
    finally:
        panel.shutdown()


def test_the_thumbnail_cache_stays_small_however_long_the_history(qtbot, tmp_path: Path) -> None:
    cache = ThumbnailCache()
    try:
        for i in range(CACHE_SIZE + 100):
            assert cache.pixmap(str(tmp_path / f"gone-{i}.mp4")) is None
        assert len(cache) == CACHE_SIZE
        assert cache.wait()  # every request handed to the worker is answered (no video: no picture)
        assert cache.pixmap(str(tmp_path / f"gone-{CACHE_SIZE + 99}.mp4")) is None
        assert len(cache) == CACHE_SIZE
    finally:
        cache.close()
