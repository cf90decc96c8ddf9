"""The layout audit (tests/ui/layout_audit.py) at real screen sizes, one process per size: the
offscreen platform takes its screen from a config file read when the QApplication starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

AUDIT = Path(__file__).with_name("layout_audit.py")
ROOT = Path(__file__).resolve().parents[2]


def run_audit(tmp_path: Path, width: int, height: int) -> dict:
    screens = tmp_path / "screens.json"
    screen = {"name": "s", "x": 0, "y": 0, "width": width, "height": height}
    screen |= {"logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}
    screens.write_text(json.dumps({"screens": [screen]}))
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={screens}", KLING_STUDIO_HOME=str(tmp_path / "home"))
    out = subprocess.run(
        [sys.executable, str(AUDIT)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["screen"] == [width, height]  # the config file was honoured
    return result


@pytest.mark.parametrize(
    ("width", "height"), [(1280, 720), (1366, 768), (1920, 1080)], ids=["1280x720", "1366x768", "1920x1080"]
)
def test_layout_audit(tmp_path: Path, width: int, height: int) -> None:
    """A 4-shot storyboard with a first frame and warnings, three queue rows, a video in the
    preview, and a layout saved on a 2560x1440 screen: nothing clipped, nothing outside the
    window, no horizontal scrollbar, the must-sees visible without scrolling, Submit enabled."""
    result = run_audit(tmp_path, width, height)
    x, y, w, h = result["window"]
    assert x >= 0 and y >= 0 and x + w <= width and y + h <= height  # clamped to this screen
    assert result["problems"] == []
