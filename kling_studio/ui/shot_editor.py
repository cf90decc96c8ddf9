"""The editor for the selected shot: its text with a live ``n/512`` counter and its seconds."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QTextCursor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QSpinBox, QWidget

from kling_studio.domain.limits import KLING_3_TURBO
from kling_studio.ui.edit_commands import EditShotTextCommand, SetShotSecondsCommand
from kling_studio.ui.shot_table_model import shot_char_count
from kling_studio.ui.storyboard_document import StoryboardDocument
from kling_studio.ui.widgets import Card, counter_style, set_style_name


class ShotTextEdit(QPlainTextEdit):
    """Leaves Undo/Redo to the window: the document's stack, not the widget, owns history."""

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            redo_y = event.key() == Qt.Key.Key_Y and event.modifiers() == Qt.KeyboardModifier.ControlModifier
            if event.matches(QKeySequence.StandardKey.Undo) or event.matches(QKeySequence.StandardKey.Redo) or redo_y:
                event.ignore()  # not overridden: the window's Undo/Redo shortcut fires
                return True
        return super().event(event)


class ShotEditorPanel(Card):
    def __init__(self, document: StoryboardDocument, parent: QWidget | None = None) -> None:
        self.counter = QLabel()
        self.counter.setAccessibleName("Shot character count")
        super().__init__("Shot", parent, trailing=self.counter)
        self.document = document
        self._updating = False
        self._build_ui()
        self._connect()
        self._show_shot()

    def _build_ui(self) -> None:
        self.text_edit = ShotTextEdit()
        self.text_edit.setObjectName("shotText")
        self.text_edit.setAccessibleName("Shot text")
        self.text_edit.setPlaceholderText("Describe what happens in this shot: subject, action, camera, light…")
        # The document's undo stack owns undo; the widget's own history would fight it.
        self.text_edit.setUndoRedoEnabled(False)
        self.text_edit.setTabChangesFocus(True)
        self.text_edit.setMinimumHeight(64)
        font = self.text_edit.font()
        font.setPointSizeF(font.pointSizeF() + 1)
        self.text_edit.setFont(font)
        self.body.addWidget(self.text_edit, 1)

        row = QHBoxLayout()
        row.setSpacing(8)
        label = QLabel("Seconds")
        self.seconds = QSpinBox()
        self.seconds.setObjectName("shotSeconds")
        self.seconds.setAccessibleName("Shot seconds")
        self.seconds.setRange(KLING_3_TURBO.min_shot_seconds, KLING_3_TURBO.max_total_seconds)
        self.seconds.setSuffix(" s")
        self.seconds.setFixedWidth(84)
        label.setBuddy(self.seconds)
        row.addWidget(label)
        row.addWidget(self.seconds)
        row.addStretch(1)
        self.hint = QLabel()
        self.hint.setObjectName("hint")
        row.addWidget(self.hint)
        self.body.addLayout(row)

    def _connect(self) -> None:
        self.text_edit.textChanged.connect(self._on_text_changed)
        self.seconds.valueChanged.connect(self._on_seconds_changed)
        self.document.selection_changed.connect(lambda _i: self._show_shot())
        self.document.changed.connect(self._show_shot)

    def _on_text_changed(self) -> None:
        index = self.document.selected
        if self._updating or index < 0:
            return
        text = self.text_edit.toPlainText()
        if text != self.document.storyboard.shots[index].text:
            self.document.push(EditShotTextCommand(self.document, index, text))

    def _on_seconds_changed(self, value: int) -> None:
        index = self.document.selected
        if self._updating or index < 0:
            return
        if value != self.document.storyboard.shots[index].duration:
            self.document.push(SetShotSecondsCommand(self.document, index, value))

    def _show_shot(self) -> None:
        shots = self.document.storyboard.shots
        index = self.document.selected
        enabled = 0 <= index < len(shots)
        self.text_edit.setEnabled(enabled)
        self.seconds.setEnabled(enabled)
        self._updating = True
        try:
            if not enabled:
                self.title_label.setText("SHOT")
                self.text_edit.setPlainText("")
                self.counter.setText("")
                return
            shot = shots[index]
            self.title_label.setText(f"SHOT {index + 1}")
            if self.text_edit.toPlainText() != shot.text:
                # Undo or another panel changed the text: keep the caret where it was if possible.
                pos = self.text_edit.textCursor().position()
                self.text_edit.setPlainText(shot.text)
                cursor = self.text_edit.textCursor()
                cursor.setPosition(min(pos, len(shot.text)), QTextCursor.MoveMode.MoveAnchor)
                self.text_edit.setTextCursor(cursor)
            if self.seconds.value() != shot.duration:
                self.seconds.setValue(max(self.seconds.minimum(), shot.duration))
            limit = KLING_3_TURBO.max_shot_chars
            chars = shot_char_count(shot, len(shots))
            self.counter.setText(f"{chars}/{limit}")
            set_style_name(self.counter, counter_style(chars, int(limit * 0.85), limit))
            self.hint.setText("Line breaks become spaces in the prompt" if len(shots) > 1 else "")
        finally:
            self._updating = False
