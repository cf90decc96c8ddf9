"""The live prompt preview: the exact compiled prompt, its counter, and what is wrong with it.

Sanitised characters (semicolons turned into commas) are highlighted in the text; each error
or warning, when it names a shot, selects that shot on click.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontDatabase, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QListView,
    QPlainTextEdit,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTextEdit,
    QWidget,
)

from kling_studio.domain.compiler import CompiledPrompt
from kling_studio.domain.diagnostics import Diagnostic
from kling_studio.domain.limits import KLING_3_TURBO
from kling_studio.ui import icons, theme
from kling_studio.ui.storyboard_document import StoryboardDocument
from kling_studio.ui.widgets import Card, counter_style, set_style_name

SEVERITY_ROLE = Qt.ItemDataRole.UserRole + 1
SHOT_ROLE = Qt.ItemDataRole.UserRole + 2
_ModelIndex = QModelIndex | QPersistentModelIndex
_ICON_AND_PADDING = 44  # decoration, its margin and the item padding from the style sheet


def utf16_offset(text: str, code_point: int) -> int:
    """Qt positions count UTF-16 units; the compiler counts code points."""
    return len(text[:code_point].encode("utf-16-le")) // 2


class DiagnosticListModel(QAbstractListModel):
    """Errors first, then warnings; row data is (severity, Diagnostic)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[str, Diagnostic]] = []

    def set_compiled(self, compiled: CompiledPrompt) -> None:
        rows = [("error", d) for d in compiled.errors] + [("warning", d) for d in compiled.warnings]
        if rows == self._rows:
            return
        self.beginResetModel()  # a handful of rows, rebuilt only when the diagnostics change
        self._rows = rows
        self.endResetModel()

    def rowCount(self, parent: _ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: _ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        severity, diag = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return diag.message
        if role == Qt.ItemDataRole.ToolTipRole:
            # Words only: the diagnostic's code (``shot_text_too_long``) is for tests and tools.
            where = f"Shot {diag.shot}" if diag.shot else "The whole storyboard"
            kind = "blocks submit" if severity == "error" else "a warning; submit still works"
            return f"{where}: {diag.message}\n({kind})"
        if role == Qt.ItemDataRole.DecorationRole:
            c = theme.colors()
            return icons.icon(
                "error" if severity == "error" else "warning", c.error if severity == "error" else c.warning
            )
        if role == SEVERITY_ROLE:
            return severity
        if role == SHOT_ROLE:
            return diag.shot
        if role == Qt.ItemDataRole.UserRole:
            return diag.code
        return None


class WrappingDelegate(QStyledItemDelegate):
    """Rows as tall as their wrapped text at the view's current width (messages are sentences)."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        base = super().sizeHint(option, index)
        view = self.parent()
        if not isinstance(view, QListView):
            return base
        width = max(80, view.viewport().width() - _ICON_AND_PADDING)
        text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        flags = int(Qt.TextFlag.TextWordWrap)
        height = option.fontMetrics.boundingRect(QRect(0, 0, width, 10_000), flags, text).height()
        return QSize(base.width(), max(base.height(), height + 12))


def blocking_text(errors: int) -> str:
    """ "1 error blocks submit", "2 errors block submit" (the verb agrees)."""
    return "1 error blocks submit" if errors == 1 else f"{errors} errors block submit"


class PromptPreviewPanel(Card):
    shot_activated = Signal(int)  # 0-based shot index

    def __init__(self, document: StoryboardDocument, parent: QWidget | None = None) -> None:
        self.counter = QLabel()
        self.counter.setAccessibleName("Prompt character count")
        super().__init__("Compiled prompt", parent, trailing=self.counter)
        self.document = document
        self._shown_text: str | None = None
        self._build_ui()
        self._connect()
        self.refresh()

    def _build_ui(self) -> None:
        self.view = QPlainTextEdit()
        self.view.setObjectName("promptView")
        self.view.setReadOnly(True)
        self.view.setAccessibleName("Compiled prompt")
        self.view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.view.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.view.setMinimumHeight(72)
        self.view.setPlaceholderText("The prompt the model will get appears here as you write.")
        self.body.addWidget(self.view, 3)

        self.summary = QLabel()
        self.summary.setObjectName("hint")
        self.body.addWidget(self.summary)

        self.diagnostics = DiagnosticListModel(self)
        self.list = QListView()
        self.list.setObjectName("diagnosticList")
        self.list.setAccessibleName("Errors and warnings")
        self.list.setModel(self.diagnostics)
        self.list.setItemDelegate(WrappingDelegate(self.list))
        self.list.setWordWrap(True)
        self.list.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setUniformItemSizes(False)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.setMinimumHeight(56)
        self.list.setMaximumHeight(140)
        self.body.addWidget(self.list, 2)

    def _connect(self) -> None:
        self.document.changed.connect(self.refresh)
        self.list.clicked.connect(self._activate)
        self.list.activated.connect(self._activate)

    def _activate(self, index: QModelIndex) -> None:
        shot = index.data(SHOT_ROLE)
        if isinstance(shot, int) and shot >= 1:
            self.document.select(shot - 1)
            self.shot_activated.emit(shot - 1)

    def refresh(self, force: bool = False) -> None:
        compiled = self.document.compiled
        if force or compiled.text != self._shown_text:
            self._shown_text = compiled.text
            self.view.setPlainText(compiled.text)
            self._highlight(compiled)
        limit, advised = KLING_3_TURBO.max_prompt_chars, KLING_3_TURBO.recommended_prompt_chars
        self.counter.setText(f"{compiled.length}/{limit}")
        set_style_name(self.counter, counter_style(compiled.length, advised, limit))
        self.counter.setToolTip(f"At most {limit} characters; APIMart recommends at most {advised}.")
        self.diagnostics.set_compiled(compiled)
        n_err, n_warn = len(compiled.errors), len(compiled.warnings)
        parts = ["Ready to submit" if not n_err else blocking_text(n_err)]
        if n_warn:
            parts.append(f"{n_warn} warning{'s' if n_warn != 1 else ''}")
        self.summary.setText(" · ".join(parts))
        self.list.setVisible(bool(n_err or n_warn))

    def _highlight(self, compiled: CompiledPrompt) -> None:
        c = theme.colors()
        fmt = QTextCharFormat()
        fmt.setBackground(QColor(c.warning))
        fmt.setForeground(QColor(c.window))
        fmt.setToolTip("A semicolon here was replaced by a comma: the semicolon separates shots.")
        selections = []
        for start, end in compiled.sanitized_spans:
            sel = QTextEdit.ExtraSelection()
            cursor = QTextCursor(self.view.document())
            cursor.setPosition(utf16_offset(compiled.text, start))
            cursor.setPosition(utf16_offset(compiled.text, end), QTextCursor.MoveMode.KeepAnchor)
            sel.cursor = cursor
            sel.format = fmt
            selections.append(sel)
        self.view.setExtraSelections(selections)

    def highlighted_spans(self) -> list[tuple[int, int]]:
        """The highlighted (start, end) positions, in Qt's units (for tests and accessibility)."""
        return [(s.cursor.selectionStart(), s.cursor.selectionEnd()) for s in self.view.extraSelections()]
