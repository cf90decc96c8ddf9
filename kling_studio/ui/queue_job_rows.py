"""The shared half of every job table: rows keyed by job id, fed by the engine's events.

Each event becomes the smallest change a view can follow — ``beginInsertRows`` for a new job,
``dataChanged`` over only the columns whose fields changed, ``beginRemoveRows`` for a removed
one — so selection and scroll stay put while jobs are polled. ``modelReset`` happens only in
``attach`` (the first load) and when a subclass changes what it lists.

Rows are stored oldest first (appending is O(1) and keeps the id → position index valid) and
shown newest first: row = count − 1 − position.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QModelRoleData,
    QModelRoleDataSpan,
    QObject,
    QPersistentModelIndex,
    Qt,
)

from kling_studio.domain.job_record import EVENT_REMOVED, JobEvent, JobRecord
from kling_studio.services.engine_api import JobEngineAPI
from kling_studio.services.job_summary import is_summary

RAW_ROLE = Qt.ItemDataRole.UserRole  # the cell's value for sorting and tests (number, str or None)
JOB_ID_ROLE = Qt.ItemDataRole.UserRole + 1
JOB_ROLE = Qt.ItemDataRole.UserRole + 2  # the whole JobRecord, for delegates and actions

AnyIndex = QModelIndex | QPersistentModelIndex

# The roles a job table answers; a view asks for a dozen per cell per paint (font, colours, check
# state, size hint…), and answering the rest with a set lookup keeps scrolling 10,000 rows cheap.
_CELL_ROLES = frozenset(
    {
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.DecorationRole,
        Qt.ItemDataRole.ToolTipRole,
        Qt.ItemDataRole.TextAlignmentRole,
        Qt.ItemDataRole.ForegroundRole,
        Qt.ItemDataRole.FontRole,
        Qt.ItemDataRole.AccessibleTextRole,
        RAW_ROLE,
    }
)
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren


class JobRowsModel(QAbstractTableModel):
    """Base class: subclasses set ``HEADERS`` and ``COLUMN_FIELDS`` and implement ``cell``."""

    HEADERS: tuple[str, ...] = ()
    # For each column, the JobRecord fields it shows; a change in any of them repaints that cell.
    COLUMN_FIELDS: tuple[tuple[str, ...], ...] = ()
    # The roles ``data`` hands to ``cell`` (plus the two job roles); a subclass may add its own.
    ROLES: frozenset[int] = _CELL_ROLES | {JOB_ID_ROLE, JOB_ROLE}

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs: list[JobRecord] = []
        self._pos: dict[str, int] = {}
        self._unsubscribe: Callable[[], None] | None = None
        self._engine: JobEngineAPI | None = None

    # Feeding.

    def attach(self, engine: JobEngineAPI) -> None:
        """Load the engine's jobs once (the only reset) and follow its events from then on."""
        self.detach()
        self._engine = engine
        self._reload()
        self._unsubscribe = engine.subscribe(self.apply)

    def _reload(self) -> None:
        """Reset to the engine's jobs: the first load, or a subclass changing what it lists."""
        self.beginResetModel()
        # Light records for finished jobs (no request or storyboard): a long history loads fast
        # and small; ``job`` hands out the whole record when someone acts on one.
        jobs = self._engine.job_summaries() if self._engine else []
        self._jobs = [job for job in jobs if self.accepts(job)]
        self._pos = {job.id: i for i, job in enumerate(self._jobs)}
        self.endResetModel()
        self._after_load()

    def detach(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def accepts(self, job: JobRecord) -> bool:
        """Whether this table lists the job at all (the takes list keeps one project's)."""
        return True

    def apply(self, event: JobEvent) -> None:
        job = event.job
        pos = self._pos.get(job.id)
        if event.kind == EVENT_REMOVED or (pos is not None and not self.accepts(job)):
            if pos is not None:
                self._remove(pos)
            return
        if pos is None:
            if self.accepts(job):
                self._insert(job)
            return
        old = self._jobs[pos]
        self._jobs[pos] = job
        changed = [c for c, names in enumerate(self.COLUMN_FIELDS) if _differs(old, job, names)]
        row = self._row(pos)
        for first, last in _runs(changed):
            self.dataChanged.emit(self.index(row, first), self.index(row, last))
        self._after_update(old, job)

    def _insert(self, job: JobRecord) -> None:
        self.beginInsertRows(QModelIndex(), 0, 0)  # newest first: a new job is row 0
        self._pos[job.id] = len(self._jobs)
        self._jobs.append(job)
        self.endInsertRows()
        self._after_update(None, job)

    def _remove(self, pos: int) -> None:
        row = self._row(pos)
        self.beginRemoveRows(QModelIndex(), row, row)
        job = self._jobs.pop(pos)
        del self._pos[job.id]
        for i in range(pos, len(self._jobs)):
            self._pos[self._jobs[i].id] = i
        self.endRemoveRows()
        self._after_remove(job)

    # Hooks for subclasses.

    def _after_load(self) -> None:
        pass

    def _after_update(self, old: JobRecord | None, new: JobRecord) -> None:
        pass

    def _after_remove(self, job: JobRecord) -> None:
        pass

    def cell(self, job: JobRecord, column: int, role: int) -> object:
        raise NotImplementedError

    # Lookups.

    def _row(self, pos: int) -> int:
        return len(self._jobs) - 1 - pos

    def job_at(self, row: int) -> JobRecord:
        return self._jobs[len(self._jobs) - 1 - row]

    def row_of(self, job_id: str) -> int | None:
        pos = self._pos.get(job_id)
        return None if pos is None else self._row(pos)

    def job(self, job_id: str) -> JobRecord | None:
        """The whole record (read from the engine, and kept, when the row holds a summary)."""
        pos = self._pos.get(job_id)
        if pos is None:
            return None
        job = self._jobs[pos]
        if is_summary(job) and self._engine is not None:
            full = self._engine.get(job_id)
            if full is not None:
                self._jobs[pos] = job = full
        return job

    def records(self) -> Iterator[JobRecord]:
        """Every listed job, oldest first."""
        return iter(self._jobs)

    def emit_cells(self, job_id: str, first: int, last: int, roles: Sequence[int] = ()) -> None:
        row = self.row_of(job_id)
        if row is not None:
            self.dataChanged.emit(self.index(row, first), self.index(row, last), list(roles))

    # Qt's model interface.

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._jobs)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        horizontal = orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
        if horizontal and 0 <= section < len(self.HEADERS):
            return self.HEADERS[section]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if role not in self.ROLES or not index.isValid():
            return None
        row = index.row()
        count = len(self._jobs)
        if row >= count or index.column() >= len(self.HEADERS):
            return None
        job = self._jobs[count - 1 - row]
        if role == JOB_ID_ROLE:
            return job.id
        if role == JOB_ROLE:
            return job
        return self.cell(job, index.column(), role)

    def multiData(self, index: AnyIndex, span: QModelRoleDataSpan | QModelRoleData) -> None:
        """Every role a delegate asks for in one call (Qt 6 asks for seven per cell per paint)."""
        self.fill_roles(index.row() if index.isValid() else -1, index.column(), span)

    def fill_roles(self, row: int, column: int, span: QModelRoleDataSpan | QModelRoleData) -> None:
        """``multiData`` for a row and column (-1: none). A delegate reuses its span from cell to
        cell: every role gets a value or is cleared."""
        items = (span,) if isinstance(span, QModelRoleData) else span
        count = len(self._jobs)
        job = self._jobs[count - 1 - row] if 0 <= row < count and 0 <= column < len(self.HEADERS) else None
        roles = self.ROLES
        cell = self.cell
        for item in items:  # type: ignore[union-attr]  # the span is iterable; its stub says not
            role = item.role()
            if job is None or role not in roles:
                item.clearData()
                continue
            value = job.id if role == JOB_ID_ROLE else job if role == JOB_ROLE else cell(job, column, role)
            if value is None:
                item.clearData()
            else:
                item.setData(value)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        return _FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags


def _differs(old: JobRecord, new: JobRecord, names: tuple[str, ...]) -> bool:
    return any(getattr(old, n) != getattr(new, n) for n in names)


def _runs(columns: list[int]) -> list[tuple[int, int]]:
    """Contiguous runs: [1, 2, 5] → [(1, 2), (5, 5)], one ``dataChanged`` per run."""
    runs: list[tuple[int, int]] = []
    for c in columns:
        if runs and runs[-1][1] == c - 1:
            runs[-1] = (runs[-1][0], c)
        else:
            runs.append((c, c))
    return runs
