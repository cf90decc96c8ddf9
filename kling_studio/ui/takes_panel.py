"""The storyboard's takes: each generation with thumbnail, date, cost and state; star or reject."""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QSize, QSortFilterProxyModel, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kling_studio.domain.job_record import JobRecord
from kling_studio.domain.jobs import JobState
from kling_studio.services.engine_api import JobEngineAPI
from kling_studio.ui import queue_format as fmt
from kling_studio.ui.local_shortcuts import LocalShortcuts
from kling_studio.ui.queue_job_rows import JOB_ID_ROLE, RAW_ROLE
from kling_studio.ui.takes_table_model import COL_COST, COL_DATE, COL_FLAG, COL_STATE, COL_TAKE, TakesTableModel
from kling_studio.ui.tasks import TaskSet

log = logging.getLogger("kling_studio.ui.takes")


class TakesPanel(QWidget):
    play_requested = Signal(str)  # job id
    load_into_editor_requested = Signal(object)  # dict: the take's storyboard snapshot
    message = Signal(str)

    def __init__(self, engine: JobEngineAPI, project_path: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._engine = engine
        self._tasks = TaskSet()
        # Window actions shown at the end of the row's context menu (e.g. Export Take for Editor).
        self.extra_context_actions: list[QAction] = []
        self.model = TakesTableModel(project_path, self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(RAW_ROLE)
        self._build_ui()
        self._connect()
        self.model.attach(engine)
        self._update_actions()

    def _build_ui(self) -> None:
        self.action_play = self._action("Play", "Return")
        self.action_star = self._action("Star", "S")
        self.action_star.setCheckable(True)
        self.action_reject = self._action("Reject", "X")
        self.action_reject.setCheckable(True)
        self.action_sidecar = self._action("Open sidecar", "Ctrl+Shift+J")
        self.action_sidecar.setToolTip("Open the JSON beside the video: the exact request and the service's answer")
        self.action_load = self._action("Load into editor", "Ctrl+E")

        self.heading = QLabel()
        top = QHBoxLayout()
        top.addWidget(self.heading, 1)
        for action in (self.action_play, self.action_star, self.action_reject, self.action_sidecar):
            button = QToolButton()
            button.setDefaultAction(action)
            button.setAutoRaise(True)
            top.addWidget(button)

        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.setShowGrid(False)
        self.view.setIconSize(QSize(64, 36))
        self.view.setSortingEnabled(True)
        vheader = self.view.verticalHeader()
        vheader.setVisible(False)
        vheader.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vheader.setDefaultSectionSize(42)
        header = self.view.horizontalHeader()
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # newest first, as the model lists them
        header.setSortIndicatorShown(False)
        header.setSectionResizeMode(COL_TAKE, QHeaderView.ResizeMode.Stretch)
        em = self.fontMetrics().horizontalAdvance("0")
        for column, chars in ((COL_DATE, 17), (COL_STATE, 16), (COL_FLAG, 3)):
            header.resizeSection(column, chars * em + 16)
        header.resizeSection(COL_COST, max(8 * em, self.view.fontMetrics().horizontalAdvance(fmt.LOCAL_COST)) + 28)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        self.local_shortcuts = LocalShortcuts(
            self.view,
            [self.action_play, self.action_star, self.action_reject, self.action_sidecar, self.action_load],
            keep=[QKeySequence(QKeySequence.StandardKey.Delete)],  # Delete here must not delete a shot
        )
        self._update_heading()

    def _action(self, text: str, shortcut: str) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.addAction(action)
        return action

    def _connect(self) -> None:
        self.view.selectionModel().currentRowChanged.connect(lambda *_a: self._update_actions())
        self.view.doubleClicked.connect(lambda _i: self.play())
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.horizontalHeader().sectionClicked.connect(
            lambda _s: self.view.horizontalHeader().setSortIndicatorShown(True)
        )
        self.model.dataChanged.connect(lambda *_a: self._update_actions())
        for signal in (self.model.rowsInserted, self.model.rowsRemoved, self.model.modelReset):
            signal.connect(self._update_heading)
        self.action_play.triggered.connect(self.play)
        self.action_star.triggered.connect(self.toggle_star)
        self.action_reject.triggered.connect(self.toggle_reject)
        self.action_sidecar.triggered.connect(self.open_sidecar)
        self.action_load.triggered.connect(self.load_into_editor)

    # Public API.

    def set_project_path(self, path: str | None) -> None:
        self.model.set_project_path(path)
        self._update_heading()
        self._update_actions()

    def current_take(self) -> JobRecord | None:
        index = self.view.selectionModel().currentIndex()
        job_id = index.data(JOB_ID_ROLE) if index.isValid() else None
        return self.model.job(job_id) if isinstance(job_id, str) else None

    def select_take(self, job_id: str) -> bool:
        row = self.model.row_of(job_id)
        if row is None:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, COL_TAKE))
        flags = self.view.selectionModel().SelectionFlag
        self.view.selectionModel().setCurrentIndex(index, flags.ClearAndSelect | flags.Rows)
        return True

    def shutdown(self) -> None:
        self.model.detach()
        self.model.thumbnails.close()
        self._tasks.cancel_all()

    # Actions.

    def play(self) -> None:
        take = self.current_take()
        if take is not None and take.video_path:
            self.play_requested.emit(take.id)

    def toggle_star(self) -> None:
        take = self.current_take()
        if take is not None:
            # A starred take is not a rejected one: starring lifts a rejection.
            starred = not take.starred
            self._spawn(self._engine.set_flags(take.id, starred=starred, rejected=False if starred else None))

    def toggle_reject(self) -> None:
        take = self.current_take()
        if take is not None:
            rejected = not take.rejected
            self._spawn(self._engine.set_flags(take.id, rejected=rejected, starred=False if rejected else None))

    def open_sidecar(self) -> None:
        take = self.current_take()
        if take is not None and take.sidecar_path and Path(take.sidecar_path).exists():
            QDesktopServices.openUrl(QUrl.fromLocalFile(take.sidecar_path))

    def load_into_editor(self) -> None:
        take = self.current_take()
        if take is not None and take.storyboard:
            self.load_into_editor_requested.emit(dict(take.storyboard))

    # Internals.

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        def report(exc: BaseException) -> None:
            log.warning("could not mark the take: %s", exc)
            self.message.emit(f"Could not mark the take: {fmt.plain_words(str(exc))}")

        self._tasks.spawn(coro, report)

    def _update_actions(self) -> None:
        take = self.current_take()
        self.action_play.setEnabled(bool(take and take.video_path and take.state is JobState.DONE))
        self.action_star.setEnabled(take is not None)
        self.action_reject.setEnabled(take is not None)
        self.action_star.setChecked(bool(take and take.starred))
        self.action_reject.setChecked(bool(take and take.rejected))
        self.action_sidecar.setEnabled(bool(take and take.sidecar_path))
        self.action_load.setEnabled(bool(take and take.storyboard))

    def _update_heading(self) -> None:
        count = self.model.rowCount()
        path = self.model.project_path
        where = "this unsaved storyboard" if path is None else Path(path).name
        self.heading.setText(f"{count} take{'s' if count != 1 else ''} of {where}")

    def _context_menu(self, pos: QPoint) -> None:
        if not self.view.indexAt(pos).isValid():
            return
        menu = QMenu(self)
        for action in (self.action_play, self.action_load, None, self.action_star, self.action_reject, None):
            if action is None:
                menu.addSeparator()
            else:
                menu.addAction(action)
        menu.addAction(self.action_sidecar)
        if self.extra_context_actions:
            menu.addSeparator()
            menu.addActions(self.extra_context_actions)
        menu.popup(self.view.viewport().mapToGlobal(pos))
