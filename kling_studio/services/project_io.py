"""Reading and writing project files on disk, atomically."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
from pathlib import Path

from kling_studio.domain.project_file import (
    ProjectFileError,
    dumps_project,
    find_lone_surrogate,
    loads_project,
)
from kling_studio.domain.storyboard import Storyboard


class ProjectIOError(OSError):
    """A project file could not be read or written; ``message`` says what and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def read_project_text(path: str | os.PathLike[str]) -> str:
    """A project file's text (either schema); ProjectIOError (disk) or ProjectFileError (not UTF-8)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise ProjectIOError(f"{p}: no such file") from None
    except OSError as exc:
        raise ProjectIOError(f"{p}: cannot read ({exc.strerror or exc})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProjectFileError("syntax", f"{p}: not UTF-8 text (byte {exc.start + 1})") from None


def load_project(path: str | os.PathLike[str]) -> Storyboard:
    """Load a project file. Raises ProjectFileError (content) or ProjectIOError (disk)."""
    p = Path(path)
    text = read_project_text(p)
    try:
        return loads_project(text, str(p.resolve().parent))
    except ProjectFileError as exc:
        raise ProjectFileError(
            exc.kind, f"{p}: {exc.message}", line=exc.line, column=exc.column, field=exc.field
        ) from None


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, new_file_mode: int = 0o600) -> None:
    """Write via a temp file in the same folder, fsync, rename; the old file survives any failure.

    The file keeps its identity: a symlink is written through (the link stays a link), an
    existing file keeps its permission bits (and owner, where allowed). A new file gets
    ``new_file_mode`` through the umask: private (0600) unless the caller says otherwise, as
    settings and drafts were before; projects pass 0o666 to get the user's usual default.
    The temp name is short, so a name of 255 bytes works.
    """
    target = Path(os.path.realpath(path))
    try:
        old: os.stat_result | None = target.stat()
    except FileNotFoundError:
        old = None
    tmp = target.parent / f".kls-{secrets.token_hex(6)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), new_file_mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            if old is not None:
                _copy_identity(fh.fileno(), old)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename durable; not possible everywhere
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _copy_identity(fd: int, old: os.stat_result) -> None:
    if hasattr(os, "fchown"):
        with contextlib.suppress(OSError):  # only root (or the same owner and group) may
            os.fchown(fd, old.st_uid, old.st_gid)
    os.fchmod(fd, stat.S_IMODE(old.st_mode))


def save_project(path: str | os.PathLike[str], storyboard: Storyboard) -> None:
    """Save atomically; first-frame paths are written relative to the file's folder."""
    p = Path(path)
    write_project_text(p, dumps_project(storyboard, str(p.resolve().parent)))


def write_project_text(path: str | os.PathLike[str], text: str) -> None:
    """Write a project file's text (schema 1 or 2) the one way: atomic, identity kept, errors in words."""
    p = Path(path)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        where = find_lone_surrogate(json.loads(text)) or "the text"
        raise ProjectIOError(
            f"{p}: could not save: {where} contains a lone surrogate (half of a character pair), "
            "which cannot be written as UTF-8. Retype that text. The previous version is unchanged."
        ) from None
    try:
        # 0o666 through the umask, as any editor creates a document (mkstemp forced 0600).
        atomic_write_bytes(p, data, new_file_mode=0o666)
    except OSError as exc:
        raise ProjectIOError(
            f"{p}: could not save ({exc.strerror or exc}). The previous version is unchanged; "
            "free some space or choose another folder."
        ) from None
