"""The live prompt preview: the exact compiled prompt, its counter, and what is wrong with it.

Sanitised characters (semicolons turned into commas) are highlighted in the text; each error
or warning, when it names a shot, selects that shot on click.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontDatabase, QTextCharFormat, QTextCursor, QTextFormat
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from kling_studio.domain.compiler import CompiledPrompt
from kling_studio.domain.diagnostics import Diagnostic
from kling_studio.domain.limits import KLING_3_TURBO
from kling_studio.ui import icons, theme
from kling_studio.ui.storyboard_document import StoryboardDocument
from kling_studio.ui.widgets import (
    Card,
    CardLabel,
    CounterLabel,
    OpaquePlainTextEdit,
    PaintsViewBackground,
    counter_style,
    set_style_name,
)

SEVERITY_ROLE = Qt.ItemDataRole.UserRole + 1
SHOT_ROLE = Qt.ItemDataRole.UserRole + 2
_ModelIndex = QModelIndex | QPersistentModelIndex
_ICON_AND_PADDING = 44  # decoration, its margin and the item padding from the style sheet
_SANITIZED = QTextFormat.Property.UserProperty + 1  # marks a replaced semicolon's character format


def utf16_offset(text: str, code_point: int) -> int:
    """Qt positions count UTF-16 units; the compiler counts code points."""
    if text.isascii():
        return code_point
    return len(text[:code_point].encode("utf-16-le")) // 2


def changed_span(old: str, new: str) -> tuple[int, int, int]:
    """(start, old_end, new_end): ``new`` is ``old`` with ``old[start:old_end]`` replaced by
    ``new[start:new_end]``, the shortest such span (common prefix and suffix left out).

    Binary search over slice comparisons: a few C-speed compares instead of a Python loop
    over a 2,000-character prompt on every keystroke.
    """
    most = min(len(old), len(new))
    lo, hi = 0, most  # the common prefix is at least lo and at most hi long
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if old[:mid] == new[:mid]:
            lo = mid
        else:
            hi = mid - 1
    start = lo
    lo, hi = 0, most - start  # the common suffix, not overlapping the prefix
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if old[len(old) - mid :] == new[len(new) - mid :]:
            lo = mid
        else:
            hi = mid - 1
    return start, len(old) - lo, len(new) - lo


class DiagnosticListModel(QAbstractListModel):
    """Errors first, then warnings; row data is (severity, Diagnostic)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[str, Diagnostic]] = []

    def set_compiled(self, compiled: CompiledPrompt) -> None:
        rows = [("error", d) for d in compiled.errors] + [("warning", d) for d in compiled.warnings]
        if rows == self._rows:
            return
        kinds = [(severity, d.code, d.shot) for severity, d in rows]
        if kinds == [(severity, d.code, d.shot) for severity, d in self._rows]:
            # The same problems with new figures ("Shot 3 has 514 characters" on each key over
            # the limit): update those rows in place, keeping the list's current row and scroll.
            changed = [n for n, (old, new) in enumerate(zip(self._rows, rows, strict=True)) if old != new]
            self._rows = rows
            for n in changed:
                self.dataChanged.emit(self.index(n), self.index(n))
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

    def __init__(self, parent: QListView) -> None:
        super().__init__(parent)
        # The list lays out every row again when one changes: measure each message once per
        # width and font, not on every keystroke (typing latency, issue #13).
        self._sizes: dict[tuple[str, int, str], QSize] = {}

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        view = self.parent()
        if not isinstance(view, QListView):
            return super().sizeHint(option, index)
        width = max(80, view.viewport().width() - _ICON_AND_PADDING)
        text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        key = (text, width, option.font.key())
        size = self._sizes.get(key)
        if size is None:
            base = super().sizeHint(option, index)
            flags = int(Qt.TextFlag.TextWordWrap)
            height = option.fontMetrics.boundingRect(QRect(0, 0, width, 10_000), flags, text).height()
            size = QSize(base.width(), max(base.height(), height + 12))
            if len(self._sizes) > 256:
                self._sizes.clear()
            self._sizes[key] = size
        return QSize(size)


class DiagnosticListView(PaintsViewBackground, QListView):
    """A list whose rows change their figures on each keystroke over a limit.

    QListView lays out every row again (and repaints the whole list) on any ``dataChanged``;
    a row whose wrapped height stays the same only needs repainting (typing latency, #13).
    Its viewport paints its own background (``widgets.paint_view_background``), so that
    repaint stops at the list.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.set_paints_background(True)

    def dataChanged(
        self,
        topLeft: QModelIndex | QPersistentModelIndex,
        bottomRight: QModelIndex | QPersistentModelIndex,
        roles: Sequence[int] = (),
    ) -> None:
        if (
            topLeft == bottomRight
            and topLeft.isValid()
            and self.visualRect(topLeft).height() == self.sizeHintForIndex(topLeft).height()
        ):
            QAbstractItemView.dataChanged(self, topLeft, bottomRight, roles)  # the row only, no relayout
            return
        super().dataChanged(topLeft, bottomRight, roles)


def blocking_text(errors: int) -> str:
    """ "1 error blocks submit", "2 errors block submit" (the verb agrees)."""
    return "1 error blocks submit" if errors == 1 else f"{errors} errors block submit"


class PromptPreviewPanel(Card):
    shot_activated = Signal(int)  # 0-based shot index

    def __init__(self, document: StoryboardDocument, parent: QWidget | None = None) -> None:
        self.counter = CounterLabel(f"88888/{KLING_3_TURBO.max_prompt_chars}")
        self.counter.setAccessibleName("Prompt character count")
        limit, advised = KLING_3_TURBO.max_prompt_chars, KLING_3_TURBO.recommended_prompt_chars
        self.counter.setToolTip(f"At most {limit} characters; APIMart recommends at most {advised}.")
        super().__init__("Compiled prompt", parent, trailing=self.counter)
        self.document = document
        self._shown_text: str | None = None
        self._shown_spans: tuple[tuple[int, int], ...] = ()
        self._build_ui()
        self._connect()
        self.refresh()

    def _build_ui(self) -> None:
        self.view = OpaquePlainTextEdit()
        self.view.setObjectName("promptView")
        self.view.setReadOnly(True)
        # The view is edited in place (see _show_text): no history of those edits to keep.
        self.view.setUndoRedoEnabled(False)
        self.view.setAccessibleName("Compiled prompt")
        self.view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.view.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.view.setMinimumHeight(72)
        self.view.setPlaceholderText("The prompt the model will get appears here as you write.")
        self.body.addWidget(self.view, 3)

        self.summary = CardLabel()  # rewritten as problems come and go: repaints itself only
        self.summary.setObjectName("hint")
        self.body.addWidget(self.summary)

        self.diagnostics = DiagnosticListModel(self)
        self.list = DiagnosticListView()
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
        if force or self._shown_text is None:
            self._shown_text = compiled.text
            self.view.setPlainText(compiled.text)
            self._highlight(compiled)
        elif compiled.text != self._shown_text:
            self._show_text(compiled)
        elif compiled.sanitized_spans != self._shown_spans:
            self._highlight(compiled)
        limit, advised = KLING_3_TURBO.max_prompt_chars, KLING_3_TURBO.recommended_prompt_chars
        self.counter.setText(f"{compiled.length}/{limit}")
        set_style_name(self.counter, counter_style(compiled.length, advised, limit))
        self.diagnostics.set_compiled(compiled)
        n_err, n_warn = len(compiled.errors), len(compiled.warnings)
        parts = ["Ready to submit" if not n_err else blocking_text(n_err)]
        if n_warn:
            parts.append(f"{n_warn} warning{'s' if n_warn != 1 else ''}")
        self.summary.setText(" · ".join(parts))
        self.list.setVisible(bool(n_err or n_warn))

    def _show_text(self, compiled: CompiledPrompt) -> None:
        """Replace only the span that changed (a keystroke: one character), in one edit.

        ``setPlainText`` would lay out and repaint the whole prompt, drop the reader's scroll
        position and rebuild every highlight on each keystroke (typing latency, issue #13).
        """
        old, new = self._shown_text or "", compiled.text
        self._shown_text = new
        doc = self.view.document()
        if "\r" in old or "\r" in new:  # "\r\n" is one break in a QTextDocument: offsets would drift
            self.view.setPlainText(new)
            self._highlight(compiled)
            return
        start, old_end, new_end = changed_span(old, new)
        cursor = QTextCursor(doc)
        cursor.beginEditBlock()
        cursor.setPosition(utf16_offset(old, start))
        cursor.setPosition(utf16_offset(old, old_end), QTextCursor.MoveMode.KeepAnchor)
        cursor.insertText(new[start:new_end], QTextCharFormat())  # never takes a mark's format
        cursor.endEditBlock()
        if doc.characterCount() - 1 != utf16_offset(new, len(new)):  # never expected; never wrong
            self.view.setPlainText(new)
            self._highlight(compiled)
            return
        # The highlights are cursors into the document: the edit moved them along. They are
        # still right when every one lies clear of the edit and the spans moved the same way.
        delta = new_end - old_end
        moved = tuple((a, b) if b < start else (a + delta, b + delta) for a, b in self._shown_spans)
        clear = all(b < start or a >= old_end for a, b in self._shown_spans)
        if not clear or moved != compiled.sanitized_spans:
            self._highlight(compiled)
        else:
            self._shown_spans = moved

    def _highlight(self, compiled: CompiledPrompt) -> None:
        """Mark every replaced semicolon, as character formats in the document.

        Formats (not extra selections) because Qt draws them with the visible lines only, where
        each extra selection is measured on every repaint (a third of the preview's paint time);
        and they move with the in-place edits like the text they mark.
        """
        self._shown_spans = compiled.sanitized_spans
        c = theme.colors()
        fmt = QTextCharFormat()
        fmt.setBackground(QColor(c.warning))
        fmt.setForeground(QColor(c.window))
        fmt.setToolTip("A semicolon here was replaced by a comma: the semicolon separates shots.")
        fmt.setProperty(_SANITIZED, True)
        cursor = QTextCursor(self.view.document())
        cursor.beginEditBlock()
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.setCharFormat(QTextCharFormat())  # setPlainText may have reused a marked format
        for start, end in compiled.sanitized_spans:
            cursor.setPosition(utf16_offset(compiled.text, start))
            cursor.setPosition(utf16_offset(compiled.text, end), QTextCursor.MoveMode.KeepAnchor)
            cursor.mergeCharFormat(fmt)
        cursor.endEditBlock()

    def highlighted_spans(self) -> list[tuple[int, int]]:
        """The highlighted (start, end) positions, one per replaced character, in Qt's units
        (for tests and accessibility)."""
        spans: list[tuple[int, int]] = []
        block = self.view.document().firstBlock()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                fragment = it.fragment()
                if fragment.charFormat().boolProperty(_SANITIZED):
                    start = fragment.position()
                    spans.extend((p, p + 1) for p in range(start, start + fragment.length()))
                it += 1
            block = block.next()
        return spans
