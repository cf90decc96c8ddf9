"""The shot list: a table of the shots, reorderable by drag, with add/duplicate/delete buttons."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QAction, QDropEvent, QGuiApplication, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QToolButton,
    QWidget,
)

from kling_studio.domain.limits import KLING_3_TURBO
from kling_studio.domain.storyboard import Shot
from kling_studio.ui.edit_commands import AddShotCommand, DeleteShotCommand, DuplicateShotCommand, MoveShotCommand
from kling_studio.ui.shot_table_model import (
    COL_CHARS,
    COL_NUMBER,
    COL_SECONDS,
    COL_TEXT,
    WIDEST_COUNTER,
    ShotTableModel,
)
from kling_studio.ui.storyboard_document import StoryboardDocument
from kling_studio.ui.widgets import Card, PaintsViewBackground


class ShotTableView(PaintsViewBackground, QTableView):
    """A table whose drops move shots through the model (an undo step), never copy rows.

    Enter or F2 on a row asks to edit that shot's text (the editor sits beside the list).
    """

    edit_requested = Signal(int)  # row

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.set_paints_background(True)  # a cell's repaint (each keystroke's count) stops here

    def keyPressEvent(self, event: QKeyEvent) -> None:
        keys = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_F2)
        plain = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier == Qt.KeyboardModifier.NoModifier
        row = self.currentIndex().row()
        if event.key() in keys and plain and row >= 0:
            self.edit_requested.emit(row)
            event.accept()
            return
        super().keyPressEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        model = self.model()
        data = event.mimeData()
        index = self.indexAt(event.position().toPoint())
        if index.isValid():
            rect = self.visualRect(index)
            row = index.row() + (1 if event.position().y() > rect.center().y() else 0)
        else:
            row = model.rowCount()
        if model.dropMimeData(data, Qt.DropAction.MoveAction, row, 0, self.rootIndex()):
            # Copy tells the drag source the drop handled everything: it must not remove rows.
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()
        self.stopAutoScroll()
        self.setState(QAbstractItemView.State.NoState)
        self.viewport().update()


class ShotListPanel(Card):
    message = Signal(str)  # why an edit was refused, for the status bar
    shot_added = Signal()
    edit_requested = Signal(int)  # Enter/F2 on a row: edit that shot's text

    def __init__(self, document: StoryboardDocument, parent: QWidget | None = None) -> None:
        self.count_label = QLabel()
        self.count_label.setObjectName("muted")
        super().__init__("Shots", parent, trailing=self.count_label)
        self.document = document
        self.model = ShotTableModel(document)
        self._scrolled_to: tuple[int, int] | None = None  # (row, rows) last scrolled into view
        self._chars_floor: tuple[str, int] | None = None  # (application font, Chars column width)
        self._build_ui()
        self._connect()
        self._sync()

    def _build_ui(self) -> None:
        view = ShotTableView()
        view.setModel(self.model)
        view.setObjectName("shotTable")
        view.setAccessibleName("Shot list")
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        view.setDefaultDropAction(Qt.DropAction.MoveAction)
        view.setDragEnabled(True)
        view.setAcceptDrops(True)
        view.setDropIndicatorShown(True)
        view.setAlternatingRowColors(True)
        view.setShowGrid(False)
        view.setWordWrap(False)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setTabKeyNavigation(False)  # Tab leaves the list (arrows move between rows)
        view.verticalHeader().hide()
        view.verticalHeader().setDefaultSectionSize(30)
        header = view.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(COL_NUMBER, QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(COL_TEXT, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COL_SECONDS, QHeaderView.ResizeMode.Fixed)
        # As wide as its widest counter ("1500/3072"), never clipped: sized by _fit_chars_column,
        # not ResizeToContents, which measures every row again on each keystroke.
        header.setSectionResizeMode(COL_CHARS, QHeaderView.ResizeMode.Fixed)
        view.setColumnWidth(COL_NUMBER, 34)
        view.setColumnWidth(COL_SECONDS, 56)
        self._fit_rows(view, 0)
        self.view = view
        self.body.addWidget(view, 1)

        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        self.add_button = QToolButton()  # row of buttons: see set_buttons_visible
        self.duplicate_button = QToolButton()
        self.delete_button = QToolButton()
        self.up_button = QToolButton()
        self.down_button = QToolButton()
        for b in (self.add_button, self.duplicate_button, self.delete_button, self.up_button, self.down_button):
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.button_row = QWidget()
        self.button_row.setLayout(buttons)
        buttons.setContentsMargins(0, 0, 0, 0)
        self.body.addWidget(self.button_row)

    def set_buttons_visible(self, visible: bool) -> None:
        """The row repeats toolbar actions (with the same shortcuts); a short window hides it."""
        self.button_row.setVisible(visible)

    def bind_button(self, button: QToolButton, action: QAction, text: str) -> None:
        """A short-labelled button that follows ``action`` (its own text stays short)."""
        button.setIcon(action.icon())
        button.setText(text)
        button.setAccessibleName(action.text().replace("&", ""))
        if not text:
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)

        def follow() -> None:
            button.setEnabled(action.isEnabled())
            button.setToolTip(action.toolTip())

        action.changed.connect(follow)
        button.clicked.connect(action.trigger)
        follow()

    # Shot edits (the window's actions call these).

    def _full(self) -> bool:
        if len(self.document.storyboard.shots) < KLING_3_TURBO.max_shots:
            return False
        self.message.emit(f"A storyboard holds at most {KLING_3_TURBO.max_shots} shots; merge or delete one first.")
        return True

    def add_shot(self) -> None:
        doc = self.document
        if self._full():
            return
        remaining = KLING_3_TURBO.max_total_seconds - doc.storyboard.total_duration
        seconds = max(KLING_3_TURBO.min_shot_seconds, min(3, remaining))
        index = doc.selected + 1 if doc.selected >= 0 else len(doc.storyboard.shots)
        doc.push(AddShotCommand(doc, index, Shot("", seconds)))
        self.shot_added.emit()

    def duplicate_shot(self) -> None:
        if self.document.selected >= 0 and not self._full():
            self.document.push(DuplicateShotCommand(self.document, self.document.selected))

    def delete_shot(self) -> None:
        if self.document.selected >= 0:
            self.document.push(DeleteShotCommand(self.document, self.document.selected))

    def move_shot(self, step: int) -> None:
        i = self.document.selected
        if i >= 0 and 0 <= i + step < len(self.document.storyboard.shots):
            self.document.push(MoveShotCommand(self.document, i, i + step))

    def _connect(self) -> None:
        self.view.edit_requested.connect(self._edit_row)
        self.view.selectionModel().currentRowChanged.connect(lambda cur, _prev: self.document.select(cur.row()))
        self.document.selection_changed.connect(self._show_selection)
        self.document.changed.connect(self._sync)

    def _edit_row(self, row: int) -> None:
        self.document.select(row)
        self.edit_requested.emit(row)

    def _show_selection(self, row: int) -> None:
        sel = self.view.selectionModel()
        if row < 0:
            sel.clearSelection()
            return
        index = self.model.index(row, COL_TEXT)
        if sel.currentIndex().row() != row or not sel.isRowSelected(row):
            flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
            sel.setCurrentIndex(index, flags)
        elif (row, self.model.rowCount()) == self._scrolled_to:
            return  # a keystroke in the selected shot: nothing moved
        self._scrolled_to = (row, self.model.rowCount())
        self.view.scrollTo(index)

    @staticmethod
    def _fit_rows(view: QTableView, shots: int) -> None:
        """As tall as the shots (at least four rows, at most the model's six): no empty rows
        taking a laptop screen's height from the shot's text."""
        rows = max(4, min(KLING_3_TURBO.max_shots, shots))
        view.setFixedHeight(rows * 30 + 30 + 4)  # rows, the header, the frame

    def _fit_chars_column(self) -> None:
        """The model's floor (five-digit counts fit); wider only for a counter longer than that."""
        font = QGuiApplication.font().key()
        if self._chars_floor is None or self._chars_floor[0] != font:
            hint = self.model.headerData(COL_CHARS, Qt.Orientation.Horizontal, Qt.ItemDataRole.SizeHintRole)
            self._chars_floor = (font, hint.width())
        width = self._chars_floor[1]
        # Only a text of 100,000 characters or more can have a count longer than the floor's.
        if any(len(shot.text) >= 100_000 for shot in self.document.storyboard.shots) and any(
            len(text) > len(WIDEST_COUNTER) for text in self.model.counter_texts()
        ):
            width = max(width, self.view.sizeHintForColumn(COL_CHARS))
        if self.view.columnWidth(COL_CHARS) != width:
            self.view.setColumnWidth(COL_CHARS, width)

    def _sync(self) -> None:
        n = len(self.document.storyboard.shots)
        self._fit_rows(self.view, n)
        self._fit_chars_column()
        limit = KLING_3_TURBO.max_shots
        self.count_label.setText(f"{n} of {limit} · the model's limit" if n >= limit else f"{n} of {limit}")
        self._show_selection(self.document.selected)
