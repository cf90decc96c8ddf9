"""The queue: one row per job, updated cell by cell from the engine's events.

``QueueFilterProxy`` filters by state group and searches titles for the view.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import (
    QModelIndex,
    QModelRoleData,
    QModelRoleDataSpan,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)

from kling_studio.domain.job_record import JobRecord
from kling_studio.domain.jobs import JobState
from kling_studio.ui import queue_format as fmt
from kling_studio.ui.queue_delegates import state_icon
from kling_studio.ui.queue_job_rows import JOB_ID_ROLE, JOB_ROLE, RAW_ROLE, JobRowsModel
from kling_studio.ui.queue_thumbnails import CACHE_SIZE, ThumbnailCache

COL_TITLE = 0
COL_MODE = 1
COL_LENGTH = 2
COL_STATE = 3
COL_PROGRESS = 4
COL_ELAPSED = 5
COL_REMAINING = 6
COL_COST = 7

_TIMES = ("state", "submitted_at", "finished_at", "updated_at", "estimated_time")
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_RIGHT_INT = int(_RIGHT.value)
_RIGHT_COLUMNS = frozenset({COL_ELAPSED, COL_REMAINING, COL_COST})
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_RAW = int(RAW_ROLE)
_DONE = JobState.DONE

# Filter groups offered by the panel: (label, states or None for all).
STATE_FILTERS: tuple[tuple[str, frozenset[JobState] | None], ...] = (
    ("All jobs", None),
    ("In flight", fmt.IN_FLIGHT_STATES),
    ("Done", frozenset({JobState.DONE})),
    ("Needs attention", frozenset({JobState.NEEDS_ATTENTION})),
    ("Failed or expired", frozenset({JobState.FAILED, JobState.EXPIRED})),
    ("Cancelled", frozenset({JobState.CANCELLED})),
)


def segment_prefix(job: JobRecord) -> str:
    """ "Segment 2 · take 1 · " for a job a sequence made (its tag in the storyboard snapshot), else ""."""
    from kling_studio.domain.project_file import SEQUENCE_JOB_KEY

    tag = job.storyboard.get(SEQUENCE_JOB_KEY) if isinstance(job.storyboard, dict) else None
    if not isinstance(tag, dict) or not isinstance(tag.get("segment"), int):
        return ""
    take = tag.get("take")
    return f"Segment {tag['segment']}" + (f" · take {take}" if isinstance(take, int) else "") + " · "


class QueueTableModel(JobRowsModel):
    job_done = Signal(str)  # a job reached "done" while we were watching (not on the first load)

    HEADERS = ("Title", "Mode", "Length", "State", "Progress", "Elapsed", "Remaining", "Cost")
    COLUMN_FIELDS = (
        ("title", "video_path", "state", "task_id", "error_message", "error_code"),
        ("mode",),
        ("duration", "resolution"),
        ("state", "error_message", "error_code", "remote_status"),
        ("progress", "state"),
        _TIMES,
        _TIMES,
        ("estimated_cost_usd", "actual_cost_usd", "state"),
    )
    ROLES = frozenset(
        {
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.DecorationRole,
            Qt.ItemDataRole.ToolTipRole,
            Qt.ItemDataRole.TextAlignmentRole,
            RAW_ROLE,
            JOB_ID_ROLE,
            JOB_ROLE,
        }
    )

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        clock: Callable[[], float] = time.time,
        thumbnails: ThumbnailCache | None = None,
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self._thumbs = thumbnails if thumbnails is not None else ThumbnailCache(self)
        self._thumbs.ready.connect(self._on_thumbnail)
        self._ticking: set[str] = set()
        self._asked: dict[str, set[str]] = {}  # video path → rows waiting for its thumbnail
        # The clock columns of running jobs change every second without an event.
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.tick)

    @property
    def thumbnails(self) -> ThumbnailCache:
        return self._thumbs

    def tick(self) -> None:
        """Repaint elapsed/remaining for running jobs only."""
        for job_id in self._ticking:
            self.emit_cells(job_id, COL_ELAPSED, COL_REMAINING, (Qt.ItemDataRole.DisplayRole, RAW_ROLE))

    def is_ticking(self) -> bool:
        return self._timer.isActive()

    def _after_load(self) -> None:
        self._ticking = {job.id for job in self.records() if job.state in fmt.TICKING_STATES}
        self._update_timer()

    def _after_update(self, old: JobRecord | None, new: JobRecord) -> None:
        if new.state is JobState.DONE and (old is None or old.state is not JobState.DONE):
            self.job_done.emit(new.id)
        if new.state in fmt.TICKING_STATES:
            self._ticking.add(new.id)
        else:
            self._ticking.discard(new.id)
        self._update_timer()

    def _after_remove(self, job: JobRecord) -> None:
        self._ticking.discard(job.id)
        self._update_timer()

    def _update_timer(self) -> None:
        if self._ticking and not self._timer.isActive():
            self._timer.start()
        elif not self._ticking and self._timer.isActive():
            self._timer.stop()

    def _on_thumbnail(self, video_path: str) -> None:
        # Only rows that asked for it: no walk over 10,000 jobs per picture while scrolling.
        for job_id in self._asked.pop(video_path, ()):
            self.emit_cells(job_id, COL_TITLE, COL_TITLE, (Qt.ItemDataRole.DecorationRole,))

    def cell(self, job: JobRecord, column: int, role: int) -> object:
        # Plain ints, not ``Qt.ItemDataRole.X``: an enum attribute costs a Python call, a cell asks often.
        if role == _DISPLAY:
            return self._display(job, column)
        if role == _RAW:
            return self._raw(job, column)
        if role == _DECORATION:
            if column == COL_STATE:
                return state_icon(job.state)
            if column == COL_TITLE and job.state is _DONE and job.video_path:
                pixmap = self._thumbs.pixmap(job.video_path)
                if pixmap is None:  # asked (or impossible): repaint this row when it comes
                    self._asked.setdefault(job.video_path, set()).add(job.id)
                    if len(self._asked) > 2 * CACHE_SIZE:  # missing videos never answer: forget the oldest
                        del self._asked[next(iter(self._asked))]
                return pixmap
            return None
        if role == _TOOLTIP:
            return self._tooltip(job, column)
        if role == _ALIGNMENT and column in _RIGHT_COLUMNS:
            return _RIGHT_INT
        return None

    def _display(self, job: JobRecord, column: int) -> str | None:
        now = self._clock()
        if column == COL_TITLE:
            return segment_prefix(job) + fmt.title_text(job)
        if column == COL_MODE:
            return fmt.mode_text(job)
        if column == COL_LENGTH:
            return fmt.length_text(job)
        if column == COL_STATE:
            return fmt.state_text(job)
        if column == COL_PROGRESS:
            return f"{job.progress}%"
        if column == COL_ELAPSED:
            return fmt.elapsed_text(job, now)
        if column == COL_REMAINING:
            return fmt.remaining_text(job, now)
        if column == COL_COST:
            return fmt.cost_text(job)
        return None

    def _raw(self, job: JobRecord, column: int) -> object:
        now = self._clock()
        values: dict[int, Callable[[], object]] = {
            COL_TITLE: lambda: segment_prefix(job) + (job.title or ""),  # sorting groups a film's segments
            COL_MODE: lambda: job.mode,
            COL_LENGTH: lambda: job.duration,
            COL_STATE: lambda: job.state.value,
            COL_PROGRESS: lambda: 100 if job.state is JobState.DONE else job.progress,
            COL_ELAPSED: lambda: fmt.elapsed_seconds(job, now),
            COL_REMAINING: lambda: fmt.remaining_seconds(job, now),
            COL_COST: lambda: fmt.job_cost(job),
        }
        getter = values.get(column)
        return getter() if getter else None

    def _tooltip(self, job: JobRecord, column: int) -> str | None:
        if column == COL_TITLE:
            lines = [segment_prefix(job) + (job.title or "Untitled")]
            if job.task_id:
                lines.append(f"Task {job.task_id}")
            if job.video_path:
                lines.append(job.video_path)
            return "\n".join(lines)
        if column == COL_STATE:
            return fmt.state_tooltip(job)
        if column == COL_COST:
            if fmt.is_local(job):
                return "Rendered by the local preview server: free, no credits spent"
            if job.actual_cost_usd is not None:
                return "Charged by the service"
            return "Estimate from the price list" if job.estimated_cost_usd is not None else None
        return None


class QueueFilterProxy(QSortFilterProxyModel):
    """Filter by a group of states and search titles; sorts on the raw values."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._states: frozenset[JobState] | None = None
        self._search = ""
        self._sorted = False  # by a column (the header was clicked), not in the model's order
        self.setSortRole(RAW_ROLE)
        self.setDynamicSortFilter(True)  # a job that changes state leaves or joins the filter

    def set_state_filter(self, states: frozenset[JobState] | None) -> None:
        self.beginFilterChange()
        self._states = states
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_search_text(self, text: str) -> None:
        self.beginFilterChange()
        self._search = text.strip().casefold()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sorted = column >= 0
        super().sort(column, order)

    def multiData(self, index: QModelIndex | QPersistentModelIndex, span: QModelRoleDataSpan | QModelRoleData) -> None:
        """Straight to the job table in one Python call, not one C++ → Python round trip per role."""
        model = self.sourceModel()
        if not isinstance(model, JobRowsModel):
            super().multiData(index, span)
        elif self._states is None and not self._search and not self._sorted and index.isValid():
            model.fill_roles(index.row(), index.column(), span)  # unfiltered, unsorted: same rows
        else:
            model.multiData(self.mapToSource(index), span)

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        if self._states is None and not self._search:
            return True  # no filter: 10,000 rows are mapped without a look at one
        model = self.sourceModel()
        if not isinstance(model, JobRowsModel):
            return True
        job = model.job_at(source_row)
        if self._states is not None and job.state not in self._states:
            return False
        return not self._search or self._search in (job.title or "").casefold()

    def job_for(self, index: QModelIndex | QPersistentModelIndex) -> JobRecord | None:
        if not index.isValid():
            return None
        job = index.data(JOB_ROLE)
        return job if isinstance(job, JobRecord) else None
