"""The open project as a sequence: its segments, picks and which segment the editor shows.

Today's ``StoryboardDocument`` keeps editing one storyboard: the current segment. This layer
owns the ``SequenceProject`` and swaps segments in and out of that document. Edits made in the
editor are written back into the current segment; every edit pushed while a segment is shown is
wrapped so that undo and redo first bring that segment back (one undo stack for the project,
and an undo never lands in the wrong segment). Structure edits (add, duplicate, delete, move,
pick) are commands on the same stack holding the whole project before and after.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand

from kling_studio.domain.sequence import Segment, SequenceProject, from_storyboard
from kling_studio.domain.storyboard import Storyboard
from kling_studio.ui.storyboard_document import StoryboardDocument, new_storyboard

# In the editor's storyboard (``extra``) while its segment continues from the previous take.
FROM_PREVIOUS = "kling_studio.from_previous"


class SegmentScoped(QUndoCommand):
    """An editor command tied to the segment it was made in."""

    def __init__(self, sequence: SequenceDocument, index: int, inner: QUndoCommand) -> None:
        super().__init__(inner.text())
        self.sequence = sequence
        self.index = index
        self.inner = inner

    def id(self) -> int:
        return self.inner.id()

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SegmentScoped) or other.index != self.index:
            return False
        merged = self.inner.mergeWith(other.inner)
        if merged:
            self.setText(self.inner.text())
        return merged

    def redo(self) -> None:
        self.sequence.show_segment(self.index)
        self.inner.redo()

    def undo(self) -> None:
        self.sequence.show_segment(self.index)
        self.inner.undo()


class SequenceCommand(QUndoCommand):
    """Swap between two whole projects (and the segment shown with each)."""

    def __init__(self, sequence: SequenceDocument, after: SequenceProject, current: int, label: str) -> None:
        super().__init__(label)
        self.sequence = sequence
        self.before = sequence.project
        self.before_current = sequence.current
        self.after = after
        self.after_current = current

    def redo(self) -> None:
        self.sequence.set_project(self.after, self.after_current)

    def undo(self) -> None:
        self.sequence.set_project(self.before, self.before_current)


class SequenceDocument(QObject):
    changed = Signal()  # segments, picks or totals changed
    current_changed = Signal(int)

    def __init__(self, document: StoryboardDocument, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self._project = from_storyboard(document.storyboard)
        self._current = 0
        self._showing = False
        document.command_scope = lambda command: SegmentScoped(self, self._current, command)
        document.changed.connect(self._from_editor)

    # Reading.

    @property
    def project(self) -> SequenceProject:
        return self._project

    @property
    def current(self) -> int:
        return self._current

    @property
    def count(self) -> int:
        return len(self._project.segments)

    @property
    def path(self) -> str | None:
        return self.document.path

    def segment(self, index: int) -> Segment:
        return self._project.segments[index]

    def editor_storyboard(self, index: int) -> Storyboard:
        """Segment ``index`` as the editor shows it (chained: no frame, a flag in ``extra``)."""
        project = self._project
        segment = project.segments[index]
        extra: dict[str, Any] = dict(project.extra) if len(project.segments) == 1 else {}
        if segment.from_previous:
            extra[FROM_PREVIOUS] = True
        return Storyboard(segment.title, segment.shots, project.settings_of(index), segment.first_frame, extra)

    # Loading (a fresh undo history).

    def load(self, project: SequenceProject, path: str | None, *, dirty: bool = False) -> None:
        if not project.segments:
            project = from_storyboard(new_storyboard())
        self._project = project
        self._current = 0
        self._showing = True
        try:
            self.document.load(self.editor_storyboard(0), path, dirty=dirty)
        finally:
            self._showing = False
        self.changed.emit()
        self.current_changed.emit(0)

    def load_storyboard(self, storyboard: Storyboard, path: str | None, *, dirty: bool = False) -> None:
        self.load(from_storyboard(storyboard), path, dirty=dirty)

    # Showing a segment (not an edit).

    def show_segment(self, index: int) -> None:
        index = max(0, min(index, self.count - 1))
        if index == self._current:
            return
        self._current = index
        self._show_current()
        self.current_changed.emit(index)

    def set_project(self, project: SequenceProject, current: int) -> None:
        """Called by commands: replace the project and show ``current``."""
        self._project = project
        self._current = max(0, min(current, len(project.segments) - 1))
        self._show_current()
        self.changed.emit()
        self.current_changed.emit(self._current)

    def _show_current(self) -> None:
        self._showing = True
        try:
            board = self.editor_storyboard(self._current)
            if board != self.document.storyboard or board.extra != self.document.storyboard.extra:
                self.document.apply(board, select=0 if board.shots else -1)
        finally:
            self._showing = False

    def _from_editor(self) -> None:
        """The editor changed the current segment: write it back into the project."""
        if self._showing:
            return
        board = self.document.storyboard
        project = self._project
        segment = project.segments[self._current]
        chained = board.first_frame is None and bool(board.extra.get(FROM_PREVIOUS)) and self._current > 0
        updated = replace(
            segment, title=board.title, shots=board.shots, first_frame=board.first_frame, from_previous=chained
        )
        single = len(project.segments) == 1
        if segment.settings is None:
            project = replace(project, settings=board.settings)
        else:
            updated = replace(updated, settings=board.settings)
        if single:
            extra = {k: v for k, v in board.extra.items() if k != FROM_PREVIOUS}
            project = replace(project, title=board.title, extra=extra)
        project = project.with_segment(self._current, updated)
        if project != self._project or project.extra != self._project.extra:
            self._project = project
            self.changed.emit()

    # Structure edits (undoable).

    def add_segment(self) -> None:
        """A new segment after the current one, continuing from it."""
        at = self._current + 1
        base = new_storyboard()
        title = f"Segment {self.count + 1}"
        segment = Segment(title=title, shots=base.shots, from_previous=True)
        self._push(self._project.insert_segment(at, segment), at, "Add segment")

    def duplicate_segment(self) -> None:
        at = self._current + 1
        source = self._project.segments[self._current]
        copy = replace(source, title=f"{source.title} (copy)", pick=None)
        self._push(self._project.insert_segment(at, copy), at, "Duplicate segment")

    def delete_segment(self, index: int | None = None) -> bool:
        index = self._current if index is None else index
        if self.count <= 1:
            return False
        project = self._project.remove_segment(index)
        if len(project.segments) == 1:
            project = replace(project, title=project.segments[0].title)
        self._push(project, min(index, len(project.segments) - 1), "Delete segment")
        return True

    def move_segment(self, step: int) -> bool:
        source = self._current
        target = source + step
        if not 0 <= target < self.count:
            return False
        self._push(self._project.move_segment(source, target), target, "Move segment")
        return True

    def set_pick(self, index: int, video: str | None) -> None:
        if self._project.segments[index].pick == video:
            return
        self._push(self._project.with_pick(index, video), self._current, "Pick take")

    def _push(self, project: SequenceProject, current: int, label: str) -> None:
        self.document.undo_stack.push(SequenceCommand(self, project, current, label))
