"""Window geometry and dock layout, kept beside the settings file (Qt's own binary blobs)."""

from __future__ import annotations

import base64
import contextlib
import json
import logging

from PySide6.QtCore import QByteArray
from PySide6.QtWidgets import QMainWindow

from kling_studio.services.paths import AppPaths
from kling_studio.services.project_io import atomic_write_bytes

STATE_FILE = "window-state.json"
STATE_VERSION = 1  # bump when the docks change so an old layout is not forced onto new docks

log = logging.getLogger("kling_studio.ui")


def restore_window_state(window: QMainWindow, paths: AppPaths) -> bool:
    try:
        raw = json.loads((paths.config_dir / STATE_FILE).read_text("utf-8"))
        geometry = QByteArray(base64.b64decode(raw["geometry"]))
        state = QByteArray(base64.b64decode(raw["state"]))
    except (OSError, ValueError, KeyError, TypeError):
        screen = window.screen().availableGeometry()
        window.resize(min(1480, screen.width()), min(960, screen.height()))
        return False
    window.restoreGeometry(geometry)
    return bool(window.restoreState(state, STATE_VERSION))


def save_window_state(window: QMainWindow, paths: AppPaths) -> None:
    data = {
        "geometry": base64.b64encode(bytes(window.saveGeometry().data())).decode("ascii"),
        "state": base64.b64encode(bytes(window.saveState(STATE_VERSION).data())).decode("ascii"),
    }
    with contextlib.suppress(OSError):
        paths.config_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(paths.config_dir / STATE_FILE, json.dumps(data).encode("utf-8"))
