"""Issue 13, first paint first: what start-up may import before the window has painted.

Each check runs in a fresh interpreter (a module imported by another test would hide a leak)
and reads ``sys.modules``. The heavy parts (HTTP, FFmpeg, OpenTimelineIO, the keyring, Qt
Multimedia, PDF, sqlite, asyncio) belong after the first paint, when the engine and the docks'
panels start.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Top-level packages (or PySide6 modules) that must not be loaded before the first paint.
LATE = (
    "httpx",
    "httpcore",
    "av",
    "opentimelineio",
    "keyring",
    "PySide6.QtMultimedia",
    "PySide6.QtNetwork",
    "fpdf",
    "anyascii",
    "sqlite3",
    "asyncio",
    "qasync",
    "PIL",
)

_REPORT = """
import json, sys
print("MODULES " + json.dumps(sorted(sys.modules)))
"""

# run_gui's first part, stopped right after the first paint (before the asyncio loop starts).
_FIRST_PAINT = """
import sys
from PySide6.QtWidgets import QApplication
from kling_studio import app as studio

app = QApplication(sys.argv[:1])
painted = studio.paint_editor(app, studio.app_paths(), None, False)
assert painted.window.isVisible()
assert painted.window.document.storyboard.shots, "the sample project is open"
assert painted.window.queue_status.text() == studio.STARTING_QUEUE
"""


def loaded_after(code: str, tmp_path: Path) -> set[str]:
    env = {k: v for k, v in os.environ.items() if k != "KLING_STUDIO_API_KEY"}
    env.update(QT_QPA_PLATFORM="offscreen", KLING_STUDIO_HOME=str(tmp_path / "home"))
    done = subprocess.run(
        [sys.executable, "-c", code + _REPORT], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("MODULES "))
    return set(json.loads(line.removeprefix("MODULES ")))


def too_early(modules: set[str]) -> list[str]:
    return sorted(name for name in LATE if name in modules)


@pytest.mark.parametrize("module", ["kling_studio.app", "kling_studio.cli"])
def test_importing_the_entry_points_loads_nothing_heavy(module: str, tmp_path: Path) -> None:
    modules = loaded_after(f"import {module}", tmp_path)
    assert module in modules
    assert too_early(modules) == []


def test_the_first_paint_loads_nothing_heavy(tmp_path: Path) -> None:
    modules = loaded_after(_FIRST_PAINT, tmp_path)
    assert "kling_studio.ui.main_window" in modules  # the editor was built
    assert too_early(modules) == []
    engine = ("kling_studio.services.job_engine", "kling_studio.services.job_store", "kling_studio.services.api_client")
    assert not [m for m in modules if m in engine or m.startswith("kling_studio.localapi")]


def test_the_list_catches_a_heavy_import(tmp_path: Path) -> None:
    """The check itself can fail: loading the engine module pulls in what the list names."""
    modules = loaded_after("import kling_studio.services.job_engine", tmp_path)
    assert {"httpx", "sqlite3", "asyncio"} <= set(too_early(modules))


def test_the_cli_knows_its_command_names_without_importing_them() -> None:
    """``kling-studio FILE`` goes to the window by ``COMMAND_NAMES``; it must list every command."""
    from kling_studio import cli

    assert set(cli._subcommand_names(cli.build_parser())) == set(cli.COMMAND_NAMES)


def test_the_gui_entry_point_loads_nothing_heavy_before_the_window(tmp_path: Path) -> None:
    """``kling-studio`` (cli.main) decides "open the window" without the command modules."""
    code = """
import sys
from kling_studio import app, cli
app.run_gui = lambda *a, **k: 0  # stop where the window would start
assert cli.main(["--local"]) == 0
"""
    assert too_early(loaded_after(code, tmp_path)) == []
