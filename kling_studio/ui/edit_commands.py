"""Undo commands, one class per kind of edit.

Each command keeps the storyboard before and after (immutable values), so undo and redo are
exact. Typing into one shot and dragging one timeline boundary merge into a single step.
"""

from __future__ import annotations

from typing import Any, ClassVar

from PySide6.QtGui import QUndoCommand

from kling_studio.domain.shot_split import split_shot
from kling_studio.domain.storyboard import FirstFrame, Shot, Storyboard, move_boundary
from kling_studio.ui.storyboard_document import StoryboardDocument

# Merge ids (QUndoCommand.id); -1 means "never merge".
_ID_TEXT = 1
_ID_SECONDS = 2
_ID_BOUNDARY = 3
_ID_TITLE = 4


class StoryboardCommand(QUndoCommand):
    """Swap between two storyboards and restore the selection that goes with each."""

    def __init__(
        self,
        document: StoryboardDocument,
        after: Storyboard,
        label: str,
        *,
        select_after: int | None = None,
    ) -> None:
        super().__init__(label)
        self.document = document
        self.before = document.storyboard
        self.after = after
        self.select_before = document.selected
        self.select_after = document.selected if select_after is None else select_after

    def redo(self) -> None:
        self.document.apply(self.after, select=self.select_after)

    def undo(self) -> None:
        self.document.apply(self.before, select=self.select_before)


class EditShotTextCommand(StoryboardCommand):
    def __init__(self, document: StoryboardDocument, index: int, text: str) -> None:
        shot = document.storyboard.shots[index]
        after = document.storyboard.with_shot(index, Shot(text, shot.duration, shot.extra))
        super().__init__(document, after, f"Edit shot {index + 1}", select_after=index)
        self.index = index

    def redo(self) -> None:
        self._swap(self.after)

    def undo(self) -> None:
        self._swap(self.before)

    def _swap(self, storyboard: Storyboard) -> None:
        # Typing in the selected shot: no forced re-selection (every panel already follows
        # ``changed``; a second round of updates per keystroke is typing latency, issue #13).
        # Undone from elsewhere, the edited shot is selected as before.
        same = self.document.selected == self.index
        self.document.apply(storyboard, select=None if same else self.index)

    def id(self) -> int:
        return _ID_TEXT

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, EditShotTextCommand) or other.index != self.index:
            return False
        self.after = other.after
        return True


class SetShotSecondsCommand(StoryboardCommand):
    def __init__(self, document: StoryboardDocument, index: int, seconds: int) -> None:
        shot = document.storyboard.shots[index]
        after = document.storyboard.with_shot(index, Shot(shot.text, seconds, shot.extra))
        super().__init__(document, after, f"Set shot {index + 1} to {seconds} s", select_after=index)
        self.index = index

    def id(self) -> int:
        return _ID_SECONDS

    def mergeWith(self, other: QUndoCommand) -> bool:
        # Holding the spinner's arrow makes many steps; keep them as one.
        if not isinstance(other, SetShotSecondsCommand) or other.index != self.index:
            return False
        self.after = other.after
        self.setText(other.text())
        return True


class AddShotCommand(StoryboardCommand):
    def __init__(self, document: StoryboardDocument, index: int, shot: Shot) -> None:
        after = document.storyboard.insert_shot(index, shot)
        super().__init__(document, after, "Add shot", select_after=index)


class DuplicateShotCommand(StoryboardCommand):
    def __init__(self, document: StoryboardDocument, index: int) -> None:
        shot = document.storyboard.shots[index]
        after = document.storyboard.insert_shot(index + 1, Shot(shot.text, shot.duration, dict(shot.extra)))
        super().__init__(document, after, f"Duplicate shot {index + 1}", select_after=index + 1)


class DeleteShotCommand(StoryboardCommand):
    def __init__(self, document: StoryboardDocument, index: int) -> None:
        after = document.storyboard.remove_shot(index)
        select = min(index, len(after.shots) - 1)
        super().__init__(document, after, f"Delete shot {index + 1}", select_after=select)


class SplitShotCommand(StoryboardCommand):
    """Shot ``index``'s text, written as shots, becomes those shots in its place (one undo step).

    Raises ``ShotSplitError`` (before anything changes) when the text cannot be split.
    """

    def __init__(self, document: StoryboardDocument, index: int) -> None:
        before = document.storyboard
        after = split_shot(before, index)
        count = len(after.shots) - len(before.shots) + 1
        super().__init__(
            document, after, f"Split shot {index + 1} into {count} shot{'s' if count != 1 else ''}", select_after=index
        )
        self.count = count


class MoveShotCommand(StoryboardCommand):
    def __init__(self, document: StoryboardDocument, source: int, target: int) -> None:
        after = document.storyboard.move_shot(source, target)
        super().__init__(document, after, f"Move shot {source + 1} to {target + 1}", select_after=target)


class MoveBoundaryCommand(StoryboardCommand):
    """Seconds moved across one timeline boundary; one drag (``gesture``) is one undo step."""

    def __init__(self, document: StoryboardDocument, base: Storyboard, boundary: int, delta: int, gesture: int) -> None:
        after = move_boundary(base, boundary, delta)
        super().__init__(document, after, f"Retime shots {boundary + 1} and {boundary + 2}")
        self.boundary = boundary
        self.gesture = gesture

    def id(self) -> int:
        return _ID_BOUNDARY

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, MoveBoundaryCommand) or other.gesture != self.gesture:
            return False
        self.after = other.after
        if self.after == self.before:
            self.setObsolete(True)
        return True


class ChangeSettingCommand(StoryboardCommand):
    """Resolution, aspect ratio or watermark."""

    _LABELS: ClassVar[dict[str, str]] = {
        "resolution": "Resolution",
        "aspect_ratio": "Aspect ratio",
        "watermark": "Watermark",
    }

    def __init__(self, document: StoryboardDocument, name: str, value: Any) -> None:
        after = document.storyboard.with_settings(**{name: value})
        shown = {None: "default", True: "on", False: "off"}.get(value, value) if name == "watermark" else value
        super().__init__(document, after, f"{self._LABELS.get(name, name)}: {shown}")


class SetFirstFrameCommand(StoryboardCommand):
    def __init__(self, document: StoryboardDocument, first_frame: FirstFrame | None) -> None:
        after = document.storyboard.with_first_frame(first_frame)
        super().__init__(document, after, "Remove first frame" if first_frame is None else "Set first frame")


class RenameStoryboardCommand(StoryboardCommand):
    def __init__(self, document: StoryboardDocument, title: str) -> None:
        super().__init__(document, document.storyboard.with_title(title), "Rename storyboard")

    def id(self) -> int:
        return _ID_TITLE

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, RenameStoryboardCommand):
            return False
        self.after = other.after
        return True
