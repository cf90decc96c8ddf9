"""The takes of one storyboard: every job submitted from the same project file, newest first."""

from __future__ import annotations

import datetime as dt
import os

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

from kling_studio.domain.job_record import JobRecord
from kling_studio.domain.jobs import JobState
from kling_studio.ui import queue_format as fmt
from kling_studio.ui.queue_delegates import state_icon
from kling_studio.ui.queue_job_rows import RAW_ROLE, JobRowsModel
from kling_studio.ui.queue_thumbnails import ThumbnailCache

COL_TAKE = 0
COL_DATE = 1
COL_COST = 2
COL_STATE = 3
COL_FLAG = 4

_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def _same_project(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return a is b
    return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


class TakesTableModel(JobRowsModel):
    HEADERS = ("Take", "Date", "Cost", "State", "")
    COLUMN_FIELDS = (
        ("title", "video_path", "state", "rejected"),
        ("created_at", "rejected"),
        ("estimated_cost_usd", "actual_cost_usd", "rejected"),
        ("state", "error_message", "error_code", "rejected"),
        ("starred", "rejected"),
    )

    def __init__(
        self, project_path: str | None, parent: QObject | None = None, *, thumbnails: ThumbnailCache | None = None
    ) -> None:
        super().__init__(parent)
        self._project_path = project_path
        self._thumbs = thumbnails if thumbnails is not None else ThumbnailCache(self)
        self._thumbs.ready.connect(self._on_thumbnail)

    @property
    def thumbnails(self) -> ThumbnailCache:
        return self._thumbs

    @property
    def project_path(self) -> str | None:
        return self._project_path

    def set_project_path(self, path: str | None) -> None:
        """Another storyboard: a different list, so a reset (never happens while polling this one)."""
        if _same_project(path, self._project_path):
            return
        self._project_path = path
        self._reload()

    def accepts(self, job: JobRecord) -> bool:
        return _same_project(job.project_path, self._project_path)

    def take_number(self, job_id: str) -> int | None:
        pos = self._pos.get(job_id)
        return None if pos is None else pos + 1

    def _after_remove(self, job: JobRecord) -> None:
        if self.rowCount():  # later takes' numbers moved down by one
            self.dataChanged.emit(self.index(0, COL_TAKE), self.index(self.rowCount() - 1, COL_TAKE))

    def _on_thumbnail(self, video_path: str) -> None:
        for job in self.records():
            if job.video_path == video_path:
                self.emit_cells(job.id, COL_TAKE, COL_TAKE, (Qt.ItemDataRole.DecorationRole,))

    def cell(self, job: JobRecord, column: int, role: int) -> object:
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(job, column)
        if role == RAW_ROLE:
            return {
                COL_TAKE: self.take_number(job.id),
                COL_DATE: job.created_at,
                COL_COST: fmt.job_cost(job),
                COL_STATE: job.state.value,
                COL_FLAG: 1 if job.starred else -1 if job.rejected else 0,
            }.get(column)
        if role == Qt.ItemDataRole.DecorationRole:
            if column == COL_TAKE and job.state is JobState.DONE and job.video_path:
                return self._thumbs.pixmap(job.video_path)
            if column == COL_STATE:
                return state_icon(job.state)
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == COL_STATE and (job.error_message or fmt.local_preview_lost(job)):
                return fmt.state_tooltip(job)
            if column == COL_FLAG:
                return "Starred" if job.starred else "Rejected" if job.rejected else "Not marked"
            if column == COL_TAKE:
                return job.sidecar_path or job.title
            return None
        if role == Qt.ItemDataRole.ForegroundRole and job.rejected:
            return QApplication.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        if role == Qt.ItemDataRole.FontRole and job.rejected and column == COL_TAKE:
            font = QFont()
            font.setStrikeOut(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and column == COL_FLAG and job.starred:
            return QColor("#d97706")
        if role == Qt.ItemDataRole.TextAlignmentRole and column == COL_COST:
            return int(_RIGHT.value)
        return None

    def _display(self, job: JobRecord, column: int) -> str | None:
        if column == COL_TAKE:
            return f"Take {self.take_number(job.id)} · {fmt.length_text(job)}"
        if column == COL_DATE:
            return dt.datetime.fromtimestamp(job.created_at).strftime("%d %b %Y %H:%M")
        if column == COL_COST:
            return fmt.cost_text(job)
        if column == COL_STATE:
            return fmt.state_text(job)
        if column == COL_FLAG:
            return "★" if job.starred else "✕" if job.rejected else ""
        return None
