"""The editor for the selected shot: its text with a live counter, its seconds, and Split into Shots.

The counter is ``n/3072`` for a one-shot storyboard (a plain prompt) and ``n/512`` per shot
otherwise. When the text looks like shots (the ``shot 1, 2, …;`` syntax or a pasted list, one
shot per line) a bar under it offers **Split into shots**, an undoable edit.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence, QTextCursor
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSpinBox, QWidget

from kling_studio.domain.limits import KLING_3_TURBO
from kling_studio.domain.multishot import looks_multishot
from kling_studio.domain.shot_split import ShotSplitError, offers_split, split_shot
from kling_studio.ui.edit_commands import EditShotTextCommand, SetShotSecondsCommand, SplitShotCommand
from kling_studio.ui.shot_table_model import WIDEST_COUNTER, shot_char_budget, shot_char_count, shot_char_tooltip
from kling_studio.ui.storyboard_document import StoryboardDocument
from kling_studio.ui.widgets import Card, CounterLabel, OpaquePlainTextEdit, counter_style, set_style_name


def _shots(count: int) -> str:
    return f"{count} shot{'s' if count != 1 else ''}"


class ShotTextEdit(OpaquePlainTextEdit):
    """Leaves Undo/Redo to the window: the document's stack, not the widget, owns history."""

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            redo_y = event.key() == Qt.Key.Key_Y and event.modifiers() == Qt.KeyboardModifier.ControlModifier
            if event.matches(QKeySequence.StandardKey.Undo) or event.matches(QKeySequence.StandardKey.Redo) or redo_y:
                event.ignore()  # not overridden: the window's Undo/Redo shortcut fires
                return True
        return super().event(event)


class ShotEditorPanel(Card):
    message = Signal(str)  # why a split was refused, for the status bar

    def __init__(self, document: StoryboardDocument, parent: QWidget | None = None) -> None:
        # As wide as any count, so it never clips nor makes the title jump (nor relayouts).
        self.counter = CounterLabel(WIDEST_COUNTER)
        self.counter.setAccessibleName("Shot character count")
        super().__init__("Shot", parent, trailing=self.counter)
        self.document = document
        self._updating = False
        self._split_action: QAction | None = None
        self._refused_text: str | None = None  # the text a split was refused for, while unchanged
        self._shown: tuple[object, ...] | None = None  # (index, shot, shot count) on screen now
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
        self._build_split_bar()

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

    def _build_split_bar(self) -> None:
        self.split_bar = QFrame()
        self.split_bar.setObjectName("splitBar")
        bar = QHBoxLayout(self.split_bar)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.setSpacing(8)
        self.split_label = QLabel()
        self.split_label.setObjectName("hint")
        self.split_label.setWordWrap(True)
        self.split_label.setAccessibleName("Split into shots")
        self.split_button = QPushButton("Split into shots")
        self.split_button.setObjectName("splitButton")
        self.split_button.setToolTip("Turn this text into real shots (Ctrl+Shift+L); Ctrl+Z puts it back")
        self.split_button.clicked.connect(self.split_into_shots)
        bar.addWidget(self.split_label, 1)
        bar.addWidget(self.split_button)
        self.split_bar.hide()
        self.body.addWidget(self.split_bar)

    def bind_split_action(self, action: QAction) -> None:
        """Edit → Split into Shots runs this panel's split and is enabled when the offer shows."""
        self._split_action = action
        action.triggered.connect(self.split_into_shots)
        self._show_split_offer()

    def split_into_shots(self) -> bool:
        """Replace the selected shot by the shots its text describes; False (and why) when it cannot."""
        index = self.document.selected
        try:
            command = SplitShotCommand(self.document, index)
        except ShotSplitError as exc:
            self._show_split_offer(error=str(exc))
            self.message.emit(str(exc))
            return False
        from_button = self.split_button.hasFocus()
        self.document.push(command)
        if from_button:  # the bar hides with the offer: keep the keyboard in the (first new) shot's text
            self.text_edit.setFocus(Qt.FocusReason.OtherFocusReason)
        self.message.emit(f"Split into {_shots(command.count)}. Undo (Ctrl+Z) puts the text back as one shot.")
        return True

    def _show_split_offer(self, error: str | None = None) -> None:
        """Offer Split when the text looks like shots.

        A text in the shot syntax that cannot be split shows why at once (the compiler refuses it
        too); plain lines that cannot (a prompt of seven paragraphs, say) are not nagged about —
        the reason shows only once the person asks for Split, until the text changes.
        """
        shots = self.document.storyboard.shots
        index = self.document.selected
        text = shots[index].text if 0 <= index < len(shots) else ""
        offered = offers_split(text)
        if self._split_action is not None:
            self._split_action.setEnabled(offered)
        if error is not None:
            self._refused_text = text
        count = 0
        if offered and error is None:
            try:
                count = len(split_shot(self.document.storyboard, index).shots) - len(shots) + 1
            except ShotSplitError as exc:
                if looks_multishot(text) or text == self._refused_text:
                    error = str(exc)
                else:
                    offered = False
        self.split_bar.setVisible(offered)
        if not offered:
            return
        if error is not None:
            self.split_label.setText(error)
            set_style_name(self.split_label, "inlineError")
            self.split_button.setText("Split into shots")
            return
        if looks_multishot(text):
            self.split_label.setText(f"This text is written as {_shots(count)} (shot 1, 2, …;).")
        else:
            self.split_label.setText(f"{count} lines: one shot each?")
        set_style_name(self.split_label, "hint")
        self.split_button.setText(f"Split into {_shots(count)}")

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
        # A keystroke arrives here twice (changed, then the forced re-selection): show it once.
        shown = (index, shots[index] if 0 <= index < len(shots) else None, len(shots))
        if shown == self._shown:
            return
        self._shown = shown
        enabled = 0 <= index < len(shots)
        self.text_edit.setEnabled(enabled)
        self.seconds.setEnabled(enabled)
        self._updating = True
        try:
            if not enabled:
                self.title_label.setText("SHOT")
                self.text_edit.setPlainText("")
                self.counter.setText("")
                self._show_split_offer()
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
            limit, advisory = shot_char_budget(len(shots))
            chars = shot_char_count(shot, len(shots))
            self.counter.setText(f"{chars}/{limit}")
            self.counter.setToolTip(shot_char_tooltip(chars, len(shots)))
            set_style_name(self.counter, counter_style(chars, advisory, limit))
            self.hint.setText("Line breaks become spaces in the prompt" if len(shots) > 1 else "")
            self._show_split_offer()
        finally:
            self._updating = False
