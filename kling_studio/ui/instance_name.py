"""The single-instance server's name, and whether anything may be listening on it.

Kept apart from ``single_instance`` so that start-up needs no QtNetwork when no window runs:
``QLocalServer`` listens on a socket file ``QDir.tempPath()/<name>`` on Unix, so without that
file nobody listens and the hand-over is skipped. A stale file (a crashed window) costs one
refused connection.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from PySide6.QtCore import QDir


def server_name(data_dir: Path) -> str:
    """Stable for a folder, distinct between folders and users (the socket lives in /tmp)."""
    folder = str(Path(data_dir).expanduser().resolve())
    digest = hashlib.sha256(folder.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return f"kling-studio-{uid}-{digest}"


def may_be_listening(name: str) -> bool:
    """False only when no window can be listening on ``name`` (no socket file on Unix)."""
    if sys.platform == "win32":  # named pipes: no file to look at, ask the pipe
        return True
    return os.path.exists(os.path.join(QDir.tempPath(), name))
