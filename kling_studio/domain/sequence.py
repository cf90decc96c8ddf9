"""A sequence: one film made of segments, each a storyboard of at most 15 s, chained by frames.

A project holds an ordered list of segments. Each segment is a storyboard (1–6 shots, 3–15 s)
with its own first frame and settings that default to the project's. A segment whose first
frame is "from previous" starts on the last frame of the previous segment's picked take (its
latest done take while none is picked): image-to-video, judged by the same first-frame rules
as any image. A project with one segment is exactly today's storyboard.

Everything here is pure: the services extract frames, run jobs and write files; the UI (a
segment strip) edits these immutable objects and asks the functions below for totals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from kling_studio.domain.compiler import CompiledPrompt, compile_storyboard, estimate_cost_usd
from kling_studio.domain.first_frame import FirstFrameCheck, ImageFacts
from kling_studio.domain.limits import KLING_3_TURBO, LimitsProfile, get_profile
from kling_studio.domain.storyboard import FirstFrame, GenerationSettings, Shot, Storyboard

# An image within 0.5 % of a table ratio (1366×768, 1080×1088) counts as that ratio and gets the
# table's exact size (the local animatic sizes its video with this rule too).
_SAME_RATIO = 0.005


@dataclass(frozen=True)
class Segment:
    """One job's worth of film.

    ``settings`` is None while the segment follows the project's settings. ``from_previous``
    chains it to the previous segment (``first_frame`` is then None). ``pick`` is the chosen
    take's video path (absolute once loaded), or None.
    """

    title: str = "Segment"
    shots: tuple[Shot, ...] = ()
    settings: GenerationSettings | None = None
    first_frame: FirstFrame | None = None
    from_previous: bool = False
    pick: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.from_previous and self.first_frame is not None:
            raise ValueError("a segment chained to the previous one has no first frame of its own")

    @property
    def total_duration(self) -> int:
        return Storyboard(shots=self.shots).total_duration

    @property
    def mode(self) -> str:
        return "image-to-video" if self.from_previous or self.first_frame is not None else "text-to-video"

    def with_pick(self, pick: str | None) -> Segment:
        return replace(self, pick=pick)


@dataclass(frozen=True)
class SequenceProject:
    """A titled, ordered list of segments with the project's default settings."""

    title: str = "Untitled"
    settings: GenerationSettings = field(default_factory=GenerationSettings)
    segments: tuple[Segment, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def settings_of(self, index: int) -> GenerationSettings:
        own = self.segments[index].settings
        return own if own is not None else self.settings

    def storyboard(self, index: int, previous_frame: FirstFrame | None = None) -> Storyboard:
        """Segment ``index`` (0-based) as the storyboard a job is made of.

        A chained segment gets ``previous_frame`` (the extracted frame) as its first frame;
        without it the storyboard is text-to-video-shaped and must not be submitted.
        """
        segment = self.segments[index]
        first_frame = previous_frame if segment.from_previous else segment.first_frame
        return Storyboard(
            title=segment.title,
            shots=segment.shots,
            settings=self.settings_of(index),
            first_frame=first_frame,
        )

    # Edits (for the UI): each returns a new project; indexes are 0-based.

    def with_segments(self, segments: tuple[Segment, ...] | list[Segment]) -> SequenceProject:
        return replace(self, segments=tuple(segments))

    def with_segment(self, index: int, segment: Segment) -> SequenceProject:
        segments = list(self.segments)
        segments[index] = segment
        return self.with_segments(segments)

    def insert_segment(self, index: int, segment: Segment) -> SequenceProject:
        segments = list(self.segments)
        segments.insert(index, segment)
        return self.with_segments(_first_not_chained(segments))

    def remove_segment(self, index: int) -> SequenceProject:
        segments = list(self.segments)
        del segments[index]
        return self.with_segments(_first_not_chained(segments))

    def move_segment(self, source: int, target: int) -> SequenceProject:
        segments = list(self.segments)
        segments.insert(target, segments.pop(source))
        return self.with_segments(_first_not_chained(segments))

    def with_pick(self, index: int, pick: str | None) -> SequenceProject:
        return self.with_segment(index, self.segments[index].with_pick(pick))


def _first_not_chained(segments: list[Segment]) -> list[Segment]:
    # The first segment has nothing before it: a chain there becomes "no first frame yet".
    if segments and segments[0].from_previous:
        segments[0] = replace(segments[0], from_previous=False)
    return segments


def from_storyboard(storyboard: Storyboard, *, pick: str | None = None) -> SequenceProject:
    """Today's single storyboard as a one-segment project (its unknown keys stay the project's)."""
    segment = Segment(
        title=storyboard.title,
        shots=storyboard.shots,
        first_frame=storyboard.first_frame,
        pick=pick,
    )
    return SequenceProject(
        title=storyboard.title, settings=storyboard.settings, segments=(segment,), extra=storyboard.extra
    )


def is_single(project: SequenceProject) -> bool:
    """True when the project says nothing a schema-1 file cannot hold (it is saved as schema 1)."""
    if len(project.segments) != 1:
        return False
    segment = project.segments[0]
    return (
        segment.title == project.title
        and not segment.from_previous
        and (segment.settings is None or segment.settings == project.settings)
        and not segment.extra
    )


# Totals


def film_seconds(project: SequenceProject) -> int:
    """The film's planned length: the sum of the segments' seconds."""
    return sum(s.total_duration for s in project.segments)


def estimated_cost_usd(
    project: SequenceProject, *, takes: int = 1, prices: Mapping[str, Decimal | float | str] | None = None
) -> float | None:
    """The estimate for generating every segment ``takes`` times; None when a price is unknown."""
    total = Decimal(0)
    for index, segment in enumerate(project.segments):
        cost = estimate_cost_usd(segment.total_duration, project.settings_of(index).resolution, prices)
        if cost is None:
            return None
        total += Decimal(str(cost))
    return float(round(total * max(takes, 0), 4))


# Sizes: what the previous segment's video will measure, for its successor's first-frame check


def output_size(
    resolution: str,
    aspect_ratio: str,
    image_size: tuple[int, int] | None = None,
    profile: LimitsProfile = KLING_3_TURBO,
) -> tuple[int, int] | None:
    """The contract's output size (§1) for text-to-video; for image-to-video the image's ratio.

    An image of a table ratio (16:9, 9:16, 1:1) gets the table's size; another ratio keeps the
    resolution's short side with the long side following the image (clamped to the widest ratio
    the first-frame rules allow, even sides). None when the setting is not one the model offers.
    """
    if resolution not in profile.resolutions:
        return None
    if image_size is None:
        if aspect_ratio not in profile.aspect_ratios:
            return None
        return profile.output_size(resolution, aspect_ratio)
    width, height = image_size
    if width <= 0 or height <= 0:
        return None
    ratio = width / height
    for candidate in profile.aspect_ratios:
        table_w, table_h = profile.output_size(resolution, candidate)
        if abs(ratio * table_h / table_w - 1) <= _SAME_RATIO:
            return table_w, table_h
    short = profile.short_side(resolution)
    ratio = min(max(ratio, 1 / profile.first_frame_max_ratio), profile.first_frame_max_ratio)
    if ratio >= 1:
        return _even(short * ratio), short
    return short, _even(short / ratio)


def _even(value: float) -> int:
    return max(2, 2 * round(value / 2))


def placeholder_check(size: tuple[int, int]) -> FirstFrameCheck:
    """The facts of a frame not extracted yet: a PNG of that size (bytes: the raw RGB bound)."""
    width, height = size
    return FirstFrameCheck(facts=ImageFacts(format="PNG", width=width, height=height, file_bytes=width * height * 3))


def compile_sequence(
    project: SequenceProject,
    first_frame_checks: Mapping[int, FirstFrameCheck | None],
    *,
    chained_frame: Mapping[int, FirstFrame] | None = None,
    prices: Mapping[str, Decimal | float | str] | None = None,
) -> list[CompiledPrompt]:
    """Compile every segment; a chained one as image-to-video with a placeholder frame.

    ``first_frame_checks[i]`` is what the services measured of segment ``i``'s own local first
    frame (absent or None: not judged). ``chained_frame[i]`` is the reference a chained segment's
    request shows (where its frame will be saved). The placeholder has the size the previous
    segment's video will have, so the same first-frame rules (size, ratio) are applied.
    """
    results: list[CompiledPrompt] = []
    previous_size: tuple[int, int] | None = None
    for index, segment in enumerate(project.segments):
        settings = project.settings_of(index)
        check = first_frame_checks.get(index)
        frame: FirstFrame | None = None
        if segment.from_previous:
            frame = (chained_frame or {}).get(index) or FirstFrame(path=f"frames/segment-{index + 1}.png")
            check = placeholder_check(previous_size) if previous_size is not None else None
        results.append(compile_storyboard(project.storyboard(index, frame), first_frame_check=check, prices=prices))
        previous_size = _size_after(settings, segment, check)
    return results


def _size_after(
    settings: GenerationSettings, segment: Segment, check: FirstFrameCheck | None
) -> tuple[int, int] | None:
    profile = get_profile(settings.model) or KLING_3_TURBO
    if segment.mode == "text-to-video":
        return output_size(settings.resolution, settings.aspect_ratio, None, profile)
    facts = check.facts if check is not None else None
    if facts is not None:
        return output_size(settings.resolution, settings.aspect_ratio, (facts.width, facts.height), profile)
    # A URL (or unreadable) first frame: its ratio is unknown here; assume the segment's setting.
    return output_size(settings.resolution, settings.aspect_ratio, None, profile)


def sequence_json(project: SequenceProject, compiled: list[CompiledPrompt], *, takes: int = 1) -> dict[str, Any]:
    """``compile --json`` for a sequence: today's object per segment plus the film's totals."""
    return {
        "ok": all(c.ok for c in compiled),
        "segments": [c.to_json() for c in compiled],
        "total_seconds": film_seconds(project),
        "estimated_cost_usd": _sum_costs(compiled, takes),
    }


def _sum_costs(compiled: list[CompiledPrompt], takes: int) -> float | None:
    if any(c.estimated_cost_usd is None for c in compiled):
        return None
    total = sum((Decimal(str(c.estimated_cost_usd)) for c in compiled), Decimal(0))
    return float(round(total * takes, 4))
