"""Window geometry and dock layout, kept beside the settings file (Qt's own binary blobs).

A layout saved on a bigger screen is not forced onto a smaller one: the window is clamped to
the screen it opens on and the docks keep their default sizes (a 600 px queue from a 4K
monitor would leave a laptop's editor no room).
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging

from PySide6.QtCore import QByteArray, QSize
from PySide6.QtWidgets import QMainWindow

from kling_studio.services.paths import AppPaths
from kling_studio.services.project_io import atomic_write_bytes

STATE_FILE = "window-state.json"
STATE_VERSION = 1  # bump when the docks change so an old layout is not forced onto new docks
DEFAULT_SIZE = QSize(1480, 960)

log = logging.getLogger("kling_studio.ui")


def default_size(window: QMainWindow) -> QSize:
    screen = window.screen().availableGeometry()
    return QSize(min(DEFAULT_SIZE.width(), screen.width()), min(DEFAULT_SIZE.height(), screen.height()))


def clamp_to_screen(window: QMainWindow) -> None:
    """Keep the whole window (frame included) on the screen it is on."""
    if window.isMaximized() or window.isFullScreen():
        return
    avail = window.screen().availableGeometry()
    frame, inner = window.frameGeometry(), window.geometry()
    extra_w, extra_h = frame.width() - inner.width(), frame.height() - inner.height()
    width = min(inner.width(), avail.width() - extra_w)
    height = min(inner.height(), avail.height() - extra_h)
    if (width, height) != (inner.width(), inner.height()):
        window.resize(width, height)
    frame = window.frameGeometry()
    x = max(avail.left(), min(frame.x(), avail.right() + 1 - frame.width()))
    y = max(avail.top(), min(frame.y(), avail.bottom() + 1 - frame.height()))
    if (x, y) != (frame.x(), frame.y()):
        window.move(x, y)


def restore_window_state(window: QMainWindow, paths: AppPaths) -> bool:
    """Geometry and docks as last saved; False (defaults kept) when none fits this screen."""
    screen = window.screen().availableGeometry()
    try:
        raw = json.loads((paths.config_dir / STATE_FILE).read_text("utf-8"))
        geometry = QByteArray(base64.b64decode(raw["geometry"]))
        state = QByteArray(base64.b64decode(raw["state"]))
        saved_screen = raw.get("screen") or [1 << 30, 1 << 30]  # unknown: assume bigger
        saved_w, saved_h = int(saved_screen[0]), int(saved_screen[1])
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        window.resize(default_size(window))
        return False
    window.restoreGeometry(geometry)
    clamp_to_screen(window)
    if saved_w > screen.width() or saved_h > screen.height():
        log.info("window layout saved on a %sx%s screen; default docks on this one", saved_w, saved_h)
        return False
    return bool(window.restoreState(state, STATE_VERSION))


def save_window_state(window: QMainWindow, paths: AppPaths) -> None:
    screen = window.screen().availableGeometry()
    data = {
        "geometry": base64.b64encode(bytes(window.saveGeometry().data())).decode("ascii"),
        "state": base64.b64encode(bytes(window.saveState(STATE_VERSION).data())).decode("ascii"),
        "screen": [screen.width(), screen.height()],
    }
    with contextlib.suppress(OSError):
        paths.config_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(paths.config_dir / STATE_FILE, json.dumps(data).encode("utf-8"))
