"""Crash recovery: the open storyboard is copied to a recovery file while it has unsaved edits.

A clean exit (or a save) deletes the copy; a copy found at start means the app died with
unsaved work, and the window offers to restore it.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from kling_studio.domain.project_file import dumps_project, loads_project
from kling_studio.domain.storyboard import Storyboard
from kling_studio.services.project_io import atomic_write_bytes

DRAFT_NAME = "draft.kling.json"
META_NAME = "draft.meta.json"


@dataclass(frozen=True)
class RecoveredDraft:
    storyboard: Storyboard
    original_path: str | None
    saved_at: float


class RecoveryStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def draft_file(self) -> Path:
        return self.folder / DRAFT_NAME

    def write(self, storyboard: Storyboard, original_path: str | None) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        # Absolute paths: the draft lives far from the project it came from.
        atomic_write_bytes(self.draft_file, dumps_project(storyboard, None).encode("utf-8"))
        meta = {"original_path": original_path, "pid": os.getpid()}
        atomic_write_bytes(self.folder / META_NAME, json.dumps(meta).encode("utf-8"))

    def read(self) -> RecoveredDraft | None:
        try:
            text = self.draft_file.read_text("utf-8")
            storyboard = loads_project(text, None)
        except (OSError, ValueError):
            return None
        original: str | None = None
        with contextlib.suppress(OSError, ValueError):
            meta = json.loads((self.folder / META_NAME).read_text("utf-8"))
            value = meta.get("original_path") if isinstance(meta, dict) else None
            original = value if isinstance(value, str) else None
        return RecoveredDraft(storyboard, original, self.draft_file.stat().st_mtime)

    def clear(self) -> None:
        for name in (DRAFT_NAME, META_NAME):
            with contextlib.suppress(FileNotFoundError):
                (self.folder / name).unlink()
