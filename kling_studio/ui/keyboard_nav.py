"""Keyboard paths between the window's panels that no single panel can own.

- Esc in the shot's text or seconds goes back to the shot list (Enter/F2 there comes back).
- Undo/Redo keys in any field run the document's undo stack: a line edit's or spin box's own
  little history would otherwise swallow Ctrl+Z and leave the storyboard unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import QAbstractSpinBox, QWidget


def is_undo_or_redo(event: QKeyEvent) -> bool:
    ctrl_y = event.key() == Qt.Key.Key_Y and event.modifiers() == Qt.KeyboardModifier.ControlModifier
    return event.matches(QKeySequence.StandardKey.Undo) or event.matches(QKeySequence.StandardKey.Redo) or ctrl_y


class DocumentUndoKeys(QObject):
    """Lets Ctrl+Z / Ctrl+Shift+Z / Ctrl+Y through to the window's Undo and Redo actions."""

    def __init__(self, parent: QObject, widgets: Iterable[QWidget]) -> None:
        super().__init__(parent)
        for widget in widgets:
            widget.installEventFilter(self)
            if isinstance(widget, QAbstractSpinBox):
                # The spin box's line edit receives the key events when the box has focus.
                line = widget.findChild(QWidget, "qt_spinbox_lineedit")
                if line is not None:
                    line.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) and is_undo_or_redo(event):
            event.ignore()  # not claimed by the field: the window's shortcut runs
            return True
        return False


class EscapeTo(QObject):
    """Esc in one of ``widgets`` moves focus with ``target`` (a callable that focuses something)."""

    def __init__(self, parent: QObject, widgets: Iterable[QWidget], target: Callable[[], None]) -> None:
        super().__init__(parent)
        self._target = target
        for widget in widgets:
            widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
            and event.modifiers() == Qt.KeyboardModifier.NoModifier
        ):
            self._target()
            return True
        return False
