"""The storyboard: shots, generation settings and the first frame.

All objects are immutable; edits return new objects, which keeps undo/redo and
snapshots trivial. The total duration is derived from the shots, never stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from kling_studio.domain.limits import DEFAULT_MODEL, KLING_3_TURBO


@dataclass(frozen=True)
class Shot:
    """One shot: what happens and for how many whole seconds."""

    text: str
    duration: int
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class GenerationSettings:
    """The request settings that are not the prompt.

    ``watermark`` is ``None`` when the field is not sent at all.
    """

    model: str = DEFAULT_MODEL
    resolution: str = KLING_3_TURBO.default_resolution
    aspect_ratio: str = KLING_3_TURBO.default_aspect_ratio
    watermark: bool | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class FirstFrame:
    """A first-frame image: a local file path or an https URL (exactly one)."""

    path: str | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        if (self.path is None) == (self.url is None):
            raise ValueError("a first frame is either a local path or a URL")

    @property
    def is_local(self) -> bool:
        return self.path is not None

    @property
    def reference(self) -> str:
        """The path or the URL, whichever this is."""
        return self.path if self.path is not None else str(self.url)


@dataclass(frozen=True)
class Storyboard:
    """A titled list of shots with settings and an optional first frame."""

    title: str = "Untitled"
    shots: tuple[Shot, ...] = ()
    settings: GenerationSettings = field(default_factory=GenerationSettings)
    first_frame: FirstFrame | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def total_duration(self) -> int:
        """The sum of the shots' seconds (only whole-number durations count)."""
        return sum(s.duration for s in self.shots if isinstance(s.duration, int) and not isinstance(s.duration, bool))

    @property
    def mode(self) -> str:
        return "image-to-video" if self.first_frame is not None else "text-to-video"

    # Edits. Each returns a new storyboard; indexes are 0-based.

    def with_shots(self, shots: tuple[Shot, ...] | list[Shot]) -> Storyboard:
        return replace(self, shots=tuple(shots))

    def with_shot(self, index: int, shot: Shot) -> Storyboard:
        shots = list(self.shots)
        shots[index] = shot
        return self.with_shots(shots)

    def insert_shot(self, index: int, shot: Shot) -> Storyboard:
        shots = list(self.shots)
        shots.insert(index, shot)
        return self.with_shots(shots)

    def remove_shot(self, index: int) -> Storyboard:
        shots = list(self.shots)
        del shots[index]
        return self.with_shots(shots)

    def move_shot(self, source: int, target: int) -> Storyboard:
        """Move the shot at ``source`` so that it ends up at index ``target``."""
        shots = list(self.shots)
        shot = shots.pop(source)
        shots.insert(target, shot)
        return self.with_shots(shots)

    def with_settings(self, **changes: Any) -> Storyboard:
        return replace(self, settings=replace(self.settings, **changes))

    def with_first_frame(self, first_frame: FirstFrame | None) -> Storyboard:
        return replace(self, first_frame=first_frame)

    def with_title(self, title: str) -> Storyboard:
        return replace(self, title=title)


def shot_start_times(shots: tuple[Shot, ...] | list[Shot]) -> list[int]:
    """Planned start second of each shot (the boundaries of the storyboard)."""
    starts: list[int] = []
    t = 0
    for shot in shots:
        starts.append(t)
        t += shot.duration
    return starts


def move_boundary(storyboard: Storyboard, boundary: int, delta: int) -> Storyboard:
    """Move seconds across the boundary after shot ``boundary`` (0-based).

    A positive ``delta`` lengthens the shot before the boundary and shortens the one after;
    the total stays fixed and no shot goes below the minimum. The move is clamped, so
    ``move_boundary`` never produces an invalid split.
    """
    shots = list(storyboard.shots)
    if not 0 <= boundary < len(shots) - 1:
        raise IndexError("no boundary after the last shot")
    left, right = shots[boundary], shots[boundary + 1]
    minimum = KLING_3_TURBO.min_shot_seconds
    delta = max(minimum - left.duration, min(delta, right.duration - minimum))
    if delta == 0:
        return storyboard
    shots[boundary] = replace(left, duration=left.duration + delta)
    shots[boundary + 1] = replace(right, duration=right.duration - delta)
    return storyboard.with_shots(shots)
