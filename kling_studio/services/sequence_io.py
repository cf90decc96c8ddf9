"""Sequence project files on disk: read schema 1 or 2, save atomically (one segment: schema 1).

The file I/O and its error wording follow ``services.project_io``; the text is
``domain.sequence_file``'s. Frames extracted for chained segments go to ``frames/`` beside the
project file.
"""

from __future__ import annotations

import os
from pathlib import Path

from kling_studio.domain.project_file import PROJECT_SUFFIX, ProjectFileError
from kling_studio.domain.sequence import SequenceProject
from kling_studio.domain.sequence_file import dumps_sequence, loads_sequence, peek_schema
from kling_studio.services.project_io import ProjectIOError, read_project_text, write_project_text

FRAMES_FOLDER = "frames"


def file_schema(path: str | os.PathLike[str]) -> int | None:
    """The ``schema`` a readable file declares, else None (the caller's usual path reports why)."""
    try:
        return peek_schema(read_project_text(path))
    except (ProjectIOError, ProjectFileError):
        return None


def load_sequence(path: str | os.PathLike[str]) -> SequenceProject:
    """Load a project file of either schema. Raises ProjectFileError or ProjectIOError."""
    p = Path(path)
    text = read_project_text(p)
    try:
        return loads_sequence(text, str(p.resolve().parent))
    except ProjectFileError as exc:
        raise ProjectFileError(
            exc.kind, f"{p}: {exc.message}", line=exc.line, column=exc.column, field=exc.field
        ) from None


def save_sequence(path: str | os.PathLike[str], project: SequenceProject) -> None:
    """Save atomically; a failed save leaves the previous file as it was."""
    p = Path(path)
    # The same write as a single storyboard's: permissions, symlinks, long names, surrogates.
    write_project_text(p, dumps_sequence(project, str(p.resolve().parent)))


def project_stem(path: str | os.PathLike[str]) -> str:
    name = Path(path).name
    return name[: -len(PROJECT_SUFFIX)] if name.lower().endswith(PROJECT_SUFFIX) else Path(path).stem


def frames_dir(project_path: str | os.PathLike[str]) -> Path:
    return Path(project_path).resolve().parent / FRAMES_FOLDER


def chained_frame_path(project_path: str | os.PathLike[str], segment: int, source: str) -> Path:
    """``frames/<project>.segment-<K>.<source>.png``: one name per (segment, source take), so an
    extraction repeated after a crash rewrites the same file."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in source)[:40] or "take"
    return frames_dir(project_path) / f"{project_stem(project_path)}.segment-{segment}.{safe}.png"
