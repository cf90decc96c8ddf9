"""The live queue dock: every job with its state, progress, times and cost, and what to do with it."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelection, QModelIndex, QPoint, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QStackedWidget,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kling_studio.domain.job_record import JobRecord
from kling_studio.domain.jobs import JobState
from kling_studio.services.engine_api import JobEngineAPI
from kling_studio.ui import queue_dialogs
from kling_studio.ui.local_shortcuts import LocalShortcuts
from kling_studio.ui.queue_delegates import ProgressDelegate
from kling_studio.ui.queue_format import LOCAL_COST, plain_words, status_summary
from kling_studio.ui.queue_table_model import (
    COL_COST,
    COL_ELAPSED,
    COL_LENGTH,
    COL_MODE,
    COL_PROGRESS,
    COL_REMAINING,
    COL_STATE,
    COL_TITLE,
    STATE_FILTERS,
    QueueFilterProxy,
    QueueTableModel,
)
from kling_studio.ui.tasks import TaskSet

if TYPE_CHECKING:
    from kling_studio.ui.preview_panel import PreviewPanel

log = logging.getLogger("kling_studio.ui.queue")

# (attribute, text, shortcut, tooltip)
_ACTIONS = (
    ("action_play", "Play", "Return", "Play the video in the preview"),
    ("action_show_in_folder", "Show in folder", "Ctrl+Shift+F", "Open the folder holding the video and its sidecar"),
    ("action_load", "Load into editor", "Ctrl+E", "Restore this job's exact storyboard and settings in the editor"),
    ("action_retry", "Retry", "Ctrl+R", "Start a new job with the same request (this one is kept)"),
    ("action_check_again", "Check again", "F5", "Ask the service about this job again (never re-bills)"),
    ("action_copy_task_id", "Copy task id", "Ctrl+C", "Copy the service's task id"),
    ("action_cancel", "Cancel", "Ctrl+.", "Stop this job locally"),
    ("action_remove", "Remove from list", "Delete", "Remove from the list; files stay unless you ask"),
)
_TOOLBAR = ("action_play", "action_load", "action_retry", "action_check_again", "action_cancel")
_RETRYABLE = frozenset({JobState.DONE, JobState.FAILED, JobState.CANCELLED, JobState.EXPIRED, JobState.NEEDS_ATTENTION})


class QueuePanel(QWidget):
    play_requested = Signal(str)  # job id; the user asked to see it
    job_finished = Signal(str)  # job id; reached "done" while the app watched (for auto-play)
    load_into_editor_requested = Signal(object)  # dict: the job's storyboard snapshot
    status_text_changed = Signal(str)  # permanent status-bar text
    message = Signal(str)  # transient status-bar message (errors, "copied")

    action_play: QAction
    action_show_in_folder: QAction
    action_load: QAction
    action_retry: QAction
    action_check_again: QAction
    action_copy_task_id: QAction
    action_cancel: QAction
    action_remove: QAction

    def __init__(
        self,
        engine: JobEngineAPI,
        parent: QWidget | None = None,
        *,
        project_path: str | None = None,
        autoplay: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(parent)
        self._engine = engine
        self._project_path = project_path
        self._autoplay = autoplay
        self._clock = clock
        self._tasks = TaskSet()
        self._status = ""
        # Window actions shown at the end of the row's context menu (e.g. Export Take for Editor).
        self.extra_context_actions: list[QAction] = []
        # Dialogs are attributes so a test can answer them without a modal loop.
        self.ask_cancel: Callable[[QWidget | None, JobRecord], bool] = queue_dialogs.confirm_cancel
        self.ask_remove: Callable[[QWidget | None, JobRecord], tuple[bool, bool]] = queue_dialogs.confirm_remove
        self.ask_retry: Callable[[QWidget | None, JobRecord], bool] = queue_dialogs.confirm_retry
        self.model = QueueTableModel(self, clock=clock)
        self.proxy = QueueFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self._status_timer = QTimer(self)  # coalesces a burst of events into one recount
        self._status_timer.setSingleShot(True)
        self._status_timer.setInterval(0)
        self._build_ui()
        self._connect()
        self.model.attach(engine)
        self._refresh_status()
        self._update_actions()
        self._update_empty()

    # Building.

    def _build_ui(self) -> None:
        self.filter_combo = QComboBox()
        for label, _states in STATE_FILTERS:
            self.filter_combo.addItem(label)
        self.filter_combo.setToolTip("Show jobs in these states")
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search titles")
        self.search_edit.setClearButtonEnabled(True)

        for attr, text, shortcut, tip in _ACTIONS:
            action = QAction(text, self)
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.setToolTip(f"{tip} ({QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)})")
            self.addAction(action)  # shortcuts work while the queue has focus
            setattr(self, attr, action)

        top = QHBoxLayout()
        top.addWidget(self.filter_combo)
        top.addWidget(self.search_edit, 1)
        for attr in _TOOLBAR:
            button = QToolButton()
            button.setDefaultAction(getattr(self, attr))
            button.setAutoRaise(True)
            top.addWidget(button)

        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.setAlternatingRowColors(True)
        self.view.setShowGrid(False)
        self.view.setWordWrap(False)
        self.view.setSortingEnabled(True)
        self.view.setIconSize(QSize(64, 36))
        self.view.setItemDelegateForColumn(COL_PROGRESS, ProgressDelegate(self.view))
        vheader = self.view.verticalHeader()
        vheader.setVisible(False)
        vheader.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # no per-row measuring: 10k rows stay fast
        vheader.setDefaultSectionSize(42)
        header = self.view.horizontalHeader()
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # the model's order (newest first) until a click
        header.setSortIndicatorShown(False)
        header.setSectionResizeMode(COL_TITLE, QHeaderView.ResizeMode.Stretch)
        header.setHighlightSections(False)
        em = self.fontMetrics().horizontalAdvance("0")
        widths = {COL_MODE: 14, COL_LENGTH: 11, COL_STATE: 18, COL_PROGRESS: 16, COL_ELAPSED: 9, COL_REMAINING: 11}
        for column, chars in widths.items():
            header.resizeSection(column, chars * em + 16)
        # "$0.00 (local)" whole: the cost is what a person checks before and after a job.
        header.resizeSection(COL_COST, max(8 * em, self.view.fontMetrics().horizontalAdvance(LOCAL_COST)) + 28)
        header.setMinimumSectionSize(4 * em)
        self.view.setColumnWidth(COL_TITLE, 28 * em)

        self.empty_label = QLabel()
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setEnabled(False)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.empty_label)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)
        self.local_shortcuts = LocalShortcuts(self.view, [getattr(self, attr) for attr, *_rest in _ACTIONS])

    def _connect(self) -> None:
        self.filter_combo.currentIndexChanged.connect(self._on_filter)
        self.search_edit.textChanged.connect(self.proxy.set_search_text)
        self.view.selectionModel().selectionChanged.connect(self._on_selection)
        self.view.doubleClicked.connect(lambda _index: self.play())
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.horizontalHeader().sectionClicked.connect(
            lambda _s: self.view.horizontalHeader().setSortIndicatorShown(True)
        )
        self.model.dataChanged.connect(self._on_data_changed)
        self.model.job_done.connect(self._on_job_done)
        for signal in (self.model.rowsInserted, self.model.rowsRemoved, self.model.modelReset):
            signal.connect(self._status_timer.start)
        for signal in (
            self.proxy.rowsInserted,
            self.proxy.rowsRemoved,
            self.proxy.modelReset,
            self.proxy.layoutChanged,
        ):
            signal.connect(self._update_empty)
        self._status_timer.timeout.connect(self._refresh_status)
        self.action_play.triggered.connect(self.play)
        self.action_show_in_folder.triggered.connect(self.show_in_folder)
        self.action_load.triggered.connect(self.load_into_editor)
        self.action_retry.triggered.connect(self.retry)
        self.action_check_again.triggered.connect(self.check_again)
        self.action_copy_task_id.triggered.connect(self.copy_task_id)
        self.action_cancel.triggered.connect(self.cancel_job)
        self.action_remove.triggered.connect(self.remove_job)

    # Public API.

    def current_job(self) -> JobRecord | None:
        index = self.view.selectionModel().currentIndex()
        if not index.isValid() or not self.view.selectionModel().isRowSelected(index.row(), QModelIndex()):
            return None
        job_id = index.data(Qt.ItemDataRole.UserRole + 1)
        return self.model.job(job_id) if isinstance(job_id, str) else None

    def select_job(self, job_id: str) -> bool:
        row = self.model.row_of(job_id)
        if row is None:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, COL_TITLE))
        if not index.isValid():
            return False
        self.view.selectionModel().setCurrentIndex(
            index,
            self.view.selectionModel().SelectionFlag.ClearAndSelect | self.view.selectionModel().SelectionFlag.Rows,
        )
        self.view.scrollTo(index)
        return True

    def set_state_filter(self, index: int) -> None:
        self.filter_combo.setCurrentIndex(index)

    def set_project_path(self, path: str | None) -> None:
        self._project_path = path
        self._refresh_status()

    def set_autoplay(self, enabled: bool) -> None:
        self._autoplay = enabled

    def status_text(self) -> str:
        return self._status

    def attach_preview(self, preview: PreviewPanel) -> None:
        """Play what the user picks; auto-play a finished job unless something is already playing."""

        def play(job_id: str) -> None:
            job = self.model.job(job_id)
            if job is not None and job.video_path:
                preview.load(job.video_path, job.shot_starts, autoplay=True)

        def finished(job_id: str) -> None:
            if self._autoplay and not preview.is_playing():
                play(job_id)

        self.play_requested.connect(play)
        self.job_finished.connect(finished)

    def shutdown(self) -> None:
        """Stop following the engine and the thumbnail workers (the window calls this on close)."""
        self.model.detach()
        self.model.thumbnails.close()
        self._tasks.cancel_all()

    # Actions.

    def play(self) -> None:
        job = self.current_job()
        if job is not None and job.video_path:
            self.play_requested.emit(job.id)

    def show_in_folder(self) -> None:
        job = self.current_job()
        target = job and (job.video_path or job.sidecar_path)
        if target:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(target).parent)))

    def load_into_editor(self) -> None:
        job = self.current_job()
        if job is not None and job.storyboard:
            self.load_into_editor_requested.emit(dict(job.storyboard))

    def retry(self) -> None:
        """Send the job's request again as a new job; on a paid backend, only after saying what it costs."""
        job = self.current_job()
        if job is None or job.state not in _RETRYABLE:
            return
        if not self._engine.is_local and not self.ask_retry(self, job):
            return
        self._spawn(self._engine.retry(job.id), f"Could not retry “{job.title}”")

    def check_again(self) -> None:
        job = self.current_job()
        if job is not None and job.state is JobState.NEEDS_ATTENTION:
            self._spawn(self._engine.check_again(job.id), f"Could not check “{job.title}” again")

    def copy_task_id(self) -> None:
        job = self.current_job()
        if job is not None and job.task_id:
            QGuiApplication.clipboard().setText(job.task_id)
            self.message.emit(f"Copied task id {job.task_id}")

    def cancel_job(self) -> None:
        job = self.current_job()
        if job is None or job.state.is_terminal or not self.ask_cancel(self, job):
            return
        self._spawn(self._engine.cancel(job.id), f"Could not cancel “{job.title}”")

    def remove_job(self) -> None:
        job = self.current_job()
        if job is None or not _removable(job):
            return
        ok, delete_files = self.ask_remove(self, job)
        if ok:
            self._spawn(self._engine.remove(job.id, delete_files=delete_files), f"Could not remove “{job.title}”")

    # Internals.

    def _spawn(self, coro: Coroutine[Any, Any, Any], failure: str) -> None:
        """Run an engine command from a slot; report its failure in the status bar."""

        def report(exc: BaseException) -> None:
            log.warning("%s: %s", failure, exc)
            self.message.emit(f"{failure}: {plain_words(str(exc))}")

        self._tasks.spawn(coro, report)

    def _on_filter(self, index: int) -> None:
        self.proxy.set_state_filter(STATE_FILTERS[index][1])

    def _on_selection(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._update_actions()
        job = self.current_job()
        if job is not None and job.state is JobState.DONE and job.video_path:
            self.play_requested.emit(job.id)  # selecting a done job plays it

    def _on_data_changed(self, top_left: QModelIndex, bottom_right: QModelIndex, _roles: list[int]) -> None:
        if (
            top_left.column() <= COL_STATE <= bottom_right.column()
            or top_left.column() <= COL_COST <= bottom_right.column()
        ):
            self._status_timer.start()
        job = self.current_job()
        row = self.model.row_of(job.id) if job is not None else None
        if row is not None and top_left.row() <= row <= bottom_right.row():  # row 0 (newest) included
            self._update_actions()

    def _on_job_done(self, job_id: str) -> None:
        self.job_finished.emit(job_id)
        job = self.current_job()
        if job is not None and job.id == job_id:
            self._update_actions()

    def _update_actions(self) -> None:
        job = self.current_job()
        has_video = bool(job and job.video_path and os.path.exists(job.video_path))
        self.action_play.setEnabled(has_video)
        self.action_show_in_folder.setEnabled(bool(job and (job.video_path or job.sidecar_path)))
        self.action_load.setEnabled(bool(job and job.storyboard))
        self.action_retry.setEnabled(bool(job and job.state in _RETRYABLE))
        self.action_check_again.setEnabled(bool(job and job.state is JobState.NEEDS_ATTENTION))
        self.action_copy_task_id.setEnabled(bool(job and job.task_id))
        self.action_cancel.setEnabled(bool(job and not job.state.is_terminal))
        self.action_remove.setEnabled(bool(job and _removable(job)))

    def _update_empty(self) -> None:
        if self.proxy.rowCount() > 0:
            self.stack.setCurrentWidget(self.view)
            return
        if self.model.rowCount() == 0:
            self.empty_label.setText("No jobs yet.\nSubmit a storyboard and it appears here while it renders.")
        else:
            self.empty_label.setText("No job matches the filter or search.")
        self.stack.setCurrentWidget(self.empty_label)

    def _refresh_status(self) -> None:
        text = status_summary(
            self.model.records(), project_path=self._project_path, now=self._clock(), is_local=self._engine.is_local
        )
        if text != self._status:
            self._status = text
            self.status_text_changed.emit(text)

    def _context_menu(self, pos: QPoint) -> None:
        if not self.view.indexAt(pos).isValid():
            return
        menu = QMenu(self)
        for i, (attr, *_rest) in enumerate(_ACTIONS):
            if i in (1, 3, 5, 6):
                menu.addSeparator()
            menu.addAction(getattr(self, attr))
        if self.extra_context_actions:
            menu.addSeparator()
            menu.addActions(self.extra_context_actions)
        menu.popup(self.view.viewport().mapToGlobal(pos))


def _removable(job: JobRecord) -> bool:
    """Never drop a job the engine is still working on: its record is what prevents paying twice."""
    return job.state.is_terminal or job.state in (JobState.NEEDS_ATTENTION, JobState.QUEUED)


def save_demo_screenshot(path: str | Path) -> Path:
    """Render the queue with jobs in several states (a demo engine) to a PNG; returns the path."""
    from kling_studio.ui.queue_demo import demo_engine

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    engine, now = demo_engine(out.parent / "queue-demo-media")
    panel = QueuePanel(engine, project_path="/projects/harbour.kling.json", clock=lambda: now)
    panel.resize(1180, 470)
    panel.show()
    panel.model.thumbnails.wait()
    for row in range(panel.model.rowCount()):  # ask for every thumbnail, then let them land
        panel.model.index(row, COL_TITLE).data(Qt.ItemDataRole.DecorationRole)
    panel.model.thumbnails.wait()
    from PySide6.QtWidgets import QApplication

    for _ in range(5):
        QApplication.processEvents()
    panel.select_job("demo-1")  # a finished take, so every action shows as available
    QApplication.processEvents()
    panel.grab().save(str(out))
    panel.shutdown()
    panel.deleteLater()
    return out
