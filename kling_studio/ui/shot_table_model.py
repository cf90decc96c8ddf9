"""The shot list as a table model: number, first line of text, seconds, characters.

Rows follow the document with inserts, removals and ``dataChanged`` (never a reset), so the
selection and the scroll position survive every edit. Drag-and-drop reorders shots through
an undo command.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QByteArray, QMimeData, QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QGuiApplication

from kling_studio.domain.compiler import sanitize_shot_text
from kling_studio.domain.limits import KLING_3_TURBO
from kling_studio.domain.storyboard import Shot
from kling_studio.ui import theme
from kling_studio.ui.edit_commands import MoveShotCommand
from kling_studio.ui.storyboard_document import StoryboardDocument

COL_NUMBER, COL_TEXT, COL_SECONDS, COL_CHARS = range(4)
COLUMN_COUNT = 4
RAW_VALUE_ROLE = Qt.ItemDataRole.UserRole + 1  # the unformatted value (int or str) for tests and sorting
SHOT_MIME = "application/x-kling-studio-shot-row"

_HEADERS = {COL_NUMBER: "#", COL_TEXT: "Shot", COL_SECONDS: "Sec", COL_CHARS: "Chars"}
_ModelIndex = QModelIndex | QPersistentModelIndex
# The roles data() answers, and the flags, made once (enum arithmetic is slow in Python).
_ROLES = frozenset(
    {
        int(RAW_VALUE_ROLE),
        int(Qt.ItemDataRole.DisplayRole),
        int(Qt.ItemDataRole.ToolTipRole),
        int(Qt.ItemDataRole.TextAlignmentRole),
        int(Qt.ItemDataRole.ForegroundRole),
        int(Qt.ItemDataRole.AccessibleTextRole),
    }
)
_GAP_FLAGS = Qt.ItemFlag.ItemIsDropEnabled
_ROW_FLAGS = _GAP_FLAGS | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
_CELL_PADDING = 20  # the item padding of the style sheet and the focus frame, both sides


def shot_char_count(shot: Shot, shot_count: int) -> int:
    """Characters this shot's text takes in the compiled prompt (what its budget counts)."""
    if shot_count <= 1:
        return len(shot.text.strip())
    return _sanitized_length(shot.text)


@lru_cache(maxsize=256)
def _sanitized_length(text: str) -> int:
    # The view asks for every role of every cell on each repaint: sanitise a text once, not per cell.
    return len(sanitize_shot_text(text)[0])


def shot_char_budget(shot_count: int) -> tuple[int, int]:
    """(limit, advisory) for one shot's text: the whole prompt's for a one-shot storyboard, else a shot's."""
    return KLING_3_TURBO.shot_char_limit(shot_count), KLING_3_TURBO.shot_char_advisory(shot_count)


def shot_char_tooltip(chars: int, shot_count: int) -> str:
    limit, advisory = shot_char_budget(shot_count)
    if shot_count <= 1:
        return (
            f"{chars} of {limit} characters: one shot is a plain prompt "
            f"(APIMart recommends at most {advisory}; a storyboard of 2–6 shots allows "
            f"{KLING_3_TURBO.max_shot_chars} a shot)"
        )
    return f"{chars} of {limit} characters allowed per shot in a storyboard of 2–{KLING_3_TURBO.max_shots} shots"


# The widest counter the column must hold without clipping: five-digit counts over the limit.
WIDEST_COUNTER = f"88888/{KLING_3_TURBO.max_prompt_chars}"


def first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


# More than the widest Shot column shows: the view elides (and lays out) the whole string on
# every paint, so a 2,000-character line would cost as much to draw as the whole prompt.
SHOWN_CHARS = 300


def shown_line(text: str) -> str:
    """The Shot column's text: the first line, cut to ``SHOWN_CHARS`` with "…" when longer."""
    line = first_line(text)
    return line[:SHOWN_CHARS] + "…" if len(line) > SHOWN_CHARS else line


class ShotTableModel(QAbstractTableModel):
    def __init__(self, document: StoryboardDocument) -> None:
        super().__init__(document)
        self._document = document
        self._shots: tuple[Shot, ...] = document.storyboard.shots
        document.changed.connect(self._on_changed)

    # Reading.

    def rowCount(self, parent: _ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._shots)

    def columnCount(self, parent: _ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else COLUMN_COUNT

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return _HEADERS.get(section)
        if role == Qt.ItemDataRole.TextAlignmentRole and section != COL_TEXT:
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.SizeHintRole and section == COL_CHARS:
            # The column's width (the panel's _fit_chars_column): as wide as the widest counter,
            # so it does not jump while typing.
            metrics = QFontMetrics(QGuiApplication.font())
            return QSize(metrics.horizontalAdvance(WIDEST_COUNTER) + _CELL_PADDING, metrics.height() + 8)
        return None

    def data(self, index: _ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # A view asks for a dozen roles per cell on every paint: answer the others at once.
        if role not in _ROLES or not index.isValid() or not 0 <= index.row() < len(self._shots):
            return None
        shot = self._shots[index.row()]
        col = index.column()
        chars = shot_char_count(shot, len(self._shots))
        limit, advisory = shot_char_budget(len(self._shots))
        if role == RAW_VALUE_ROLE:
            return {COL_NUMBER: index.row() + 1, COL_TEXT: shot.text, COL_SECONDS: shot.duration, COL_CHARS: chars}.get(
                col
            )
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_NUMBER:
                return str(index.row() + 1)
            if col == COL_TEXT:
                return shown_line(shot.text) or "(empty shot)"
            if col == COL_SECONDS:
                return f"{shot.duration} s"
            if col == COL_CHARS:
                return f"{chars}/{limit}"
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == COL_CHARS:
                return shot_char_tooltip(chars, len(self._shots))
            if col == COL_TEXT and shot.text:
                return shot.text[:600]
        if role == Qt.ItemDataRole.TextAlignmentRole and col != COL_TEXT:
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            c = theme.colors()
            if col == COL_CHARS:
                if chars > limit:
                    return QColor(c.error)
                if chars > advisory:
                    return QColor(c.warning)
                return QColor(c.success)
            if col == COL_NUMBER or (col == COL_TEXT and not shot.text.strip()):
                return QColor(c.muted)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"Shot {index.row() + 1}, {shot.duration} seconds, {chars} characters: {first_line(shot.text)}"
        return None

    def flags(self, index: _ModelIndex) -> Qt.ItemFlag:
        return _ROW_FLAGS if index.isValid() else _GAP_FLAGS

    # Drag and drop: moving rows is an undoable storyboard edit.

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [SHOT_MIME]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:  # type: ignore[override]
        data = QMimeData()
        rows = sorted({i.row() for i in indexes if i.isValid()})
        if rows:
            data.setData(SHOT_MIME, QByteArray(str(rows[0]).encode()))
        return data

    def canDropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: _ModelIndex
    ) -> bool:
        return data.hasFormat(SHOT_MIME) and action in (Qt.DropAction.MoveAction, Qt.DropAction.CopyAction)

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: _ModelIndex) -> bool:
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        try:
            source = int(bytes(data.data(SHOT_MIME).data()).decode())
        except ValueError:
            return False
        count = len(self._shots)
        if not 0 <= source < count:
            return False
        # ``row`` is the gap to drop into (-1: onto ``parent``'s row, or after the last row).
        gap = row if row >= 0 else (parent.row() if parent.isValid() else count)
        target = gap - 1 if gap > source else gap
        target = max(0, min(target, count - 1))
        if target == source:
            return False
        self._document.push(MoveShotCommand(self._document, source, target))
        return True

    # Following the document.

    def _on_changed(self) -> None:
        old, new = self._shots, self._document.storyboard.shots
        if old is new:
            return
        # Rows are shot positions: row n always shows "shot n+1". A shot added or removed anywhere
        # grows or shrinks the list at its end, and the positions whose content changed get
        # dataChanged. (Moving rows would make the numbers in column 0 wander with them.)
        if len(new) > len(old):
            self.beginInsertRows(QModelIndex(), len(old), len(new) - 1)
            self._shots = new
            self.endInsertRows()
        elif len(new) < len(old):
            self.beginRemoveRows(QModelIndex(), len(new), len(old) - 1)
            self._shots = new
            self.endRemoveRows()
        else:
            self._shots = new
            # A keystroke changes one shot's text: repaint its text and count cells, not the
            # table (a range repaints the whole viewport; typing latency, issue #13).
            for i, (before, after) in enumerate(zip(old, new, strict=True)):
                if before is after or before == after:
                    continue
                if before.duration != after.duration or before.extra != after.extra:
                    self.dataChanged.emit(self.index(i, 0), self.index(i, COLUMN_COUNT - 1))
                    continue
                # Tooltips and accessible text are asked for when needed: repaint what shows.
                if shown_line(before.text) != shown_line(after.text):
                    self.dataChanged.emit(self.index(i, COL_TEXT), self.index(i, COL_TEXT))
                if shot_char_count(before, len(old)) != shot_char_count(after, len(new)):
                    self.dataChanged.emit(self.index(i, COL_CHARS), self.index(i, COL_CHARS))
            return
        changed = [i for i in range(min(len(old), len(new))) if old[i] != new[i] or len(old) != len(new)]
        if changed:
            # Character budgets depend on the shot count too (one shot is not sanitised).
            self.dataChanged.emit(self.index(changed[0], 0), self.index(changed[-1], COLUMN_COUNT - 1))

    def counter_texts(self) -> list[str]:
        """What the Chars column shows, row by row (for the panel to size the column)."""
        count = len(self._shots)
        limit = shot_char_budget(count)[0]
        return [f"{shot_char_count(shot, count)}/{limit}" for shot in self._shots]
