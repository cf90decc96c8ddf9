"""Panel shortcuts that win over the window's while the panel has focus.

Qt treats two enabled actions with the same key as ambiguous and runs neither: Delete in the
queue would remove nothing and delete no shot. A panel's own action is what the user means
while its list has focus, so this filter claims the key (``ShortcutOverride``) and runs it.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence


def _sequence(event: QKeyEvent) -> QKeySequence:
    mods = event.modifiers().value & ~0x20000000  # KeypadModifier: keypad Enter matches Enter
    return QKeySequence(event.key() | mods)


class LocalShortcuts(QObject):
    """An event filter for ``widget``: its enabled ``actions`` take their keys from the window."""

    def __init__(self, widget: QObject, actions: Iterable[QAction], *, keep: Iterable[QKeySequence] = ()) -> None:
        """``keep``: keys the widget handles itself (or ignores) instead of running a window action."""
        super().__init__(widget)
        self._actions = list(actions)
        self._keep = list(keep)
        widget.installEventFilter(self)

    def _kept(self, event: QKeyEvent) -> bool:
        pressed = _sequence(event)
        return any(k.matches(pressed) == QKeySequence.SequenceMatch.ExactMatch for k in self._keep)

    def action_for(self, event: QKeyEvent) -> QAction | None:
        pressed = _sequence(event)
        for action in self._actions:
            if action.isEnabled() and any(
                s.matches(pressed) == QKeySequence.SequenceMatch.ExactMatch for s in action.shortcuts()
            ):
                return action
        return None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not isinstance(event, QKeyEvent):
            return False
        if event.type() == QEvent.Type.ShortcutOverride and (self.action_for(event) is not None or self._kept(event)):
            event.accept()  # delivered as a key press to the panel, not as the window's shortcut
            return True
        if event.type() == QEvent.Type.KeyPress:
            action = self.action_for(event)
            if action is not None:
                action.trigger()
                return True
        return False
