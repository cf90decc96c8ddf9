"""One engine per data folder: an OS lock taken before the job store is opened.

Two engines on one store drive the same jobs twice (shared ``.part`` files, ``done`` flipped back
to ``needs_attention``). The GUI and the CLI take the same lock: ``fcntl.flock`` on
``<data folder>/engine.lock``. The kernel drops a ``flock`` when its process dies, however it
dies, so a SIGKILLed holder leaves nothing to clean up: the next process simply gets the lock.
The file itself only says who holds it (pid, kind, command), so the other side can name the
holder; its content is never trusted for the locking.

POSIX only (``fcntl``); on Windows the lock is a no-op and the app relies on being one instance.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

LOCK_FILE_NAME = "engine.lock"
KIND_GUI = "gui"
KIND_CLI = "cli"


@dataclass(frozen=True)
class LockHolder:
    pid: int | None
    kind: str  # "gui" | "cli" | "" (unknown: the file was being written)
    command: str = ""  # the CLI sub-command ("resume", "submit")

    def describe(self) -> str:
        """'the Kling Studio window (pid 1234)' / '`kling-studio resume` (pid 1234)'."""
        pid = f" (pid {self.pid})" if self.pid else ""
        if self.kind == KIND_GUI:
            return f"the Kling Studio window{pid}"
        if self.kind == KIND_CLI and self.command:
            return f"`kling-studio {self.command}`{pid}"
        return f"another Kling Studio process{pid}"


class EngineLockHeld(RuntimeError):
    """Another process runs the engine for this data folder; ``holder`` says which."""

    def __init__(self, holder: LockHolder, path: Path) -> None:
        self.holder = holder
        self.path = path
        super().__init__(f"{holder.describe()} is running the queue for this data folder ({path.parent})")


def lock_path(data_dir: Path) -> Path:
    return Path(data_dir) / LOCK_FILE_NAME


def read_holder(data_dir: Path) -> LockHolder | None:
    """Who the lock file names (None: no file). Advisory: says nothing about whether it is held."""
    try:
        text = lock_path(data_dir).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    try:
        data = json.loads(text)
        pid = data.get("pid")
        return LockHolder(
            pid if isinstance(pid, int) else None, str(data.get("kind", "")), str(data.get("command", ""))
        )
    except (ValueError, AttributeError):
        return LockHolder(None, "")


class EngineLock:
    """``with EngineLock(data_dir, KIND_CLI, "resume"):`` — raises ``EngineLockHeld`` if taken.

    Held until ``release()`` or the process ends. Locks are per open file, so a second
    ``EngineLock`` in the same process is refused too.
    """

    def __init__(self, data_dir: Path, kind: str, command: str = "") -> None:
        self.path = lock_path(data_dir)
        self.kind = kind
        self.command = command
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> EngineLock:
        if self._fd is not None:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:
            if not _try_lock(fd):
                holder = read_holder(self.path.parent) or LockHolder(None, "")
                raise EngineLockHeld(holder, self.path)
            info = {"pid": os.getpid(), "kind": self.kind, "command": self.command, "since": time.time()}
            data = (json.dumps(info) + "\n").encode()
            os.ftruncate(fd, 0)
            os.pwrite(fd, data, 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)  # no stale name for the next reader; the kernel frees the lock itself
        os.close(fd)  # closing the only descriptor drops the flock

    def __enter__(self) -> EngineLock:
        return self.acquire()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
