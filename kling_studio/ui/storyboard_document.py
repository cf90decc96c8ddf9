"""The open storyboard: the current value, its compiled prompt, the undo stack and the selection.

Every panel reads from and edits through one ``StoryboardDocument``; edits are undo commands
(``edit_commands``) that call ``apply``. The storyboard itself is immutable, so undo keeps whole
before/after values instead of diffs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from kling_studio.domain.compiler import CompiledPrompt, compile_storyboard
from kling_studio.domain.first_frame import FirstFrameCheck
from kling_studio.domain.storyboard import Shot, Storyboard


def new_storyboard() -> Storyboard:
    """What File → New starts from: one empty shot with the default duration."""
    from kling_studio.domain.limits import KLING_3_TURBO

    return Storyboard(title="Untitled", shots=(Shot(text="", duration=KLING_3_TURBO.default_duration),))


class StoryboardDocument(QObject):
    """Holds the storyboard being edited and tells the panels when it changes."""

    changed = Signal()  # the storyboard or its compiled prompt changed
    selection_changed = Signal(int)  # selected shot index, -1 for none
    path_changed = Signal(str)
    dirty_changed = Signal(bool)

    def __init__(
        self,
        storyboard: Storyboard | None = None,
        *,
        prices: Mapping[str, Decimal | float | str] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._storyboard = storyboard if storyboard is not None else new_storyboard()
        self._prices = prices
        self._checks: dict[str, FirstFrameCheck] = {}
        self._path: str | None = None
        self._selected = 0 if self._storyboard.shots else -1
        self._revision = 0  # bumps on every change; autosave compares it
        # A sequence ties each edit to the segment it was made in (ui.sequence_document).
        self.command_scope: Callable[[QUndoCommand], QUndoCommand] | None = None
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self._compiled = self._compile()

    # Reading.

    @property
    def storyboard(self) -> Storyboard:
        return self._storyboard

    @property
    def compiled(self) -> CompiledPrompt:
        return self._compiled

    @property
    def path(self) -> str | None:
        return self._path

    @property
    def selected(self) -> int:
        return self._selected

    @property
    def is_dirty(self) -> bool:
        return not self.undo_stack.isClean()

    @property
    def revision(self) -> int:
        return self._revision

    def first_frame_check(self) -> FirstFrameCheck | None:
        ff = self._storyboard.first_frame
        if ff is None or ff.path is None:
            return None
        return self._checks.get(ff.path)

    # Changing.

    def push(self, command: QUndoCommand) -> None:
        """Run an edit through the undo stack (its ``redo`` calls ``apply``)."""
        if self.command_scope is not None:
            command = self.command_scope(command)
        self.undo_stack.push(command)

    def apply(self, storyboard: Storyboard, *, select: int | None = None) -> None:
        """Replace the storyboard (called by undo commands, not by panels)."""
        self._storyboard = storyboard
        self._revision += 1
        self._compiled = self._compile()
        self.changed.emit()
        if select is not None:
            self.select(select, force=True)
        elif self._selected >= len(storyboard.shots):
            self.select(len(storyboard.shots) - 1, force=True)

    def select(self, index: int, *, force: bool = False) -> None:
        index = max(-1, min(index, len(self._storyboard.shots) - 1))
        if index != self._selected or force:
            self._selected = index
            self.selection_changed.emit(index)

    def remember_check(self, path: str, check: FirstFrameCheck) -> None:
        """Keep what was measured of a first-frame file; recompiles when it is the current one."""
        self._checks[path] = check
        ff = self._storyboard.first_frame
        if ff is not None and ff.path == path:
            self._compiled = self._compile()
            self.changed.emit()

    def known_check(self, path: str) -> FirstFrameCheck | None:
        return self._checks.get(path)

    def set_prices(self, prices: Mapping[str, Decimal | float | str] | None) -> None:
        self._prices = prices
        self._compiled = self._compile()
        self.changed.emit()

    def load(self, storyboard: Storyboard, path: str | None, *, dirty: bool = False) -> None:
        """Show another storyboard: a fresh undo history, saved state unless ``dirty``."""
        self.undo_stack.clear()
        self._set_path(path)
        self.apply(storyboard, select=0 if storyboard.shots else -1)
        if dirty:
            # A recovered draft is unsaved work: forget the clean state until the next save.
            self.undo_stack.resetClean()
        self.dirty_changed.emit(self.is_dirty)

    def mark_saved(self, path: str) -> None:
        self._set_path(path)
        self.undo_stack.setClean()
        self.dirty_changed.emit(False)

    def _on_clean_changed(self, clean: bool) -> None:
        self.dirty_changed.emit(not clean)

    def _set_path(self, path: str | None) -> None:
        if path != self._path:
            self._path = path
            self.path_changed.emit(path or "")

    def _compile(self) -> CompiledPrompt:
        return compile_storyboard(self._storyboard, first_frame_check=self.first_frame_check(), prices=self._prices)
