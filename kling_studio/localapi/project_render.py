"""Rendering a storyboard project file as an animatic, with no server involved.

The file is parsed by the domain (``loads_project``); reading it is plain file I/O here, since
``localapi`` depends on the domain only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from kling_studio.domain.first_frame import check_pixel_count
from kling_studio.domain.limits import KLING_3_TURBO
from kling_studio.domain.project_file import PROJECT_SUFFIX, ProjectFileError, loads_project
from kling_studio.localapi.animatic import DEFAULT_FPS, ProgressCallback, animatic_size, render_animatic
from kling_studio.localapi.validation import displayed_size


class AnimaticError(ValueError):
    """A project that cannot become an animatic; ``unreadable`` tells a bad file from bad content."""

    def __init__(self, message: str, *, unreadable: bool = False) -> None:
        super().__init__(message)
        self.unreadable = unreadable


@dataclass(frozen=True)
class AnimaticPlan:
    title: str
    shots: tuple[tuple[str, int], ...]
    width: int
    height: int
    first_frame: Path | None
    notes: list[str] = field(default_factory=list)


def default_output(project: str | os.PathLike[str]) -> Path:
    path = Path(project)
    stem = path.name.removesuffix(PROJECT_SUFFIX) if path.name.endswith(PROJECT_SUFFIX) else path.stem
    return path.with_name(f"{stem}.animatic.mp4")


def plan_project(project: str | os.PathLike[str], resolution: str | None = None) -> AnimaticPlan:
    path = Path(project)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise AnimaticError(f"{path}: cannot read ({exc.strerror or exc})", unreadable=True) from None
    except UnicodeDecodeError:
        raise AnimaticError(f"{path}: not UTF-8 text", unreadable=True) from None
    try:
        storyboard = loads_project(text, str(path.resolve().parent))
    except ProjectFileError as exc:
        raise AnimaticError(f"{path}: {exc.message}", unreadable=True) from None
    settings = storyboard.settings
    resolution = resolution or settings.resolution
    if not storyboard.shots:
        raise AnimaticError(f"{path}: the storyboard has no shots")
    for i, shot in enumerate(storyboard.shots, start=1):
        if shot.duration < KLING_3_TURBO.min_shot_seconds:
            raise AnimaticError(f"{path}: shot {i} lasts {shot.duration} s; at least {KLING_3_TURBO.min_shot_seconds}")
    notes: list[str] = []
    first_frame: Path | None = None
    image_size: tuple[int, int] | None = None
    if storyboard.first_frame is not None and storyboard.first_frame.path is not None:
        first_frame = Path(storyboard.first_frame.path)
        try:
            with Image.open(first_frame) as image:
                too_many = check_pixel_count(*image.size, KLING_3_TURBO)
                if too_many is not None:  # judged from the header: decoding it would take gigabytes
                    raise AnimaticError(f"first frame {first_frame}: {too_many.message}")
                image_size = displayed_size(image)
        except AnimaticError:
            raise
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise AnimaticError(f"first frame {first_frame}: cannot read it as an image ({exc})") from None
    elif storyboard.first_frame is not None:
        notes.append(f"the first frame is a URL ({storyboard.first_frame.url}); rendering without it")
    try:
        width, height = animatic_size(resolution, settings.aspect_ratio, image_size)
    except ValueError as exc:
        raise AnimaticError(f"{path}: {exc}") from None
    shots = tuple((shot.text, shot.duration) for shot in storyboard.shots)
    return AnimaticPlan(storyboard.title, shots, width, height, first_frame, notes)


def render_project_file(
    project: str | os.PathLike[str],
    out_path: str | os.PathLike[str] | None = None,
    *,
    resolution: str | None = None,
    fps: int = DEFAULT_FPS,
    on_progress: ProgressCallback | None = None,
) -> Path:
    """Render a ``*.kling.json`` project as an animatic MP4; returns the written path."""
    plan = plan_project(project, resolution)
    out = Path(out_path) if out_path is not None else default_output(project)
    return render_animatic(
        plan.shots,
        out,
        width=plan.width,
        height=plan.height,
        fps=fps,
        first_frame=plan.first_frame,
        title=plan.title,
        on_progress=on_progress,
    )
