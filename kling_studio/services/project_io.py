"""Reading and writing project files on disk, atomically."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from kling_studio.domain.project_file import ProjectFileError, dumps_project, loads_project
from kling_studio.domain.storyboard import Storyboard


class ProjectIOError(OSError):
    """A project file could not be read or written; ``message`` says what and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def load_project(path: str | os.PathLike[str]) -> Storyboard:
    """Load a project file. Raises ProjectFileError (content) or ProjectIOError (disk)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise ProjectIOError(f"{p}: no such file") from None
    except OSError as exc:
        raise ProjectIOError(f"{p}: cannot read ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProjectFileError("syntax", f"{p}: not UTF-8 text (byte {exc.start + 1})") from None
    try:
        return loads_project(text, str(p.resolve().parent))
    except ProjectFileError as exc:
        raise ProjectFileError(
            exc.kind, f"{p}: {exc.message}", line=exc.line, column=exc.column, field=exc.field
        ) from None


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write via a temp file in the same folder, fsync, rename; the old file survives any failure."""
    p = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename durable; not possible everywhere
        dir_fd = os.open(p.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def save_project(path: str | os.PathLike[str], storyboard: Storyboard) -> None:
    """Save atomically; first-frame paths are written relative to the file's folder."""
    p = Path(path)
    text = dumps_project(storyboard, str(p.resolve().parent))
    try:
        atomic_write_bytes(p, text.encode("utf-8"))
    except OSError as exc:
        raise ProjectIOError(
            f"{p}: could not save ({exc.strerror or exc}). The previous version is unchanged; "
            "free some space or choose another folder."
        ) from None
