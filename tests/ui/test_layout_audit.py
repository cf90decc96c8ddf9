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

# Known to fail at laptop heights (see docs/USABILITY.md §3): with a four-row queue along the
# bottom, a 720/768 px screen leaves the editor about 300 px, too little for the shot list and
# the shot's text together; the right column is also wider than its share. strict: a fix flips it.
LAPTOP = pytest.mark.xfail(strict=True, reason="laptop heights: shot text, counters below the fold (issue 10 §3)")


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
    ("width", "height"),
    [pytest.param(1280, 720, marks=LAPTOP), pytest.param(1366, 768, marks=LAPTOP), (1920, 1080)],
    ids=["1280x720", "1366x768", "1920x1080"],
)
def test_layout_audit(tmp_path: Path, width: int, height: int) -> None:
    result = run_audit(tmp_path, width, height)
    assert result["problems"] == []


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (1366, 768)], ids=["1280x720", "1366x768"])
def test_laptop_window_fits_and_submit_stays_in_view(tmp_path: Path, width: int, height: int) -> None:
    """What holds on a laptop today: inside the screen (a bigger screen's saved layout clamped),
    Submit visible and enabled, no horizontal scrollbar, the preview's video squeezes nothing."""
    result = run_audit(tmp_path, width, height)
    x, y, w, h = result["window"]
    assert x >= 0 and y >= 0 and x + w <= width and y + h <= height
    problems = "\n".join(result["problems"])
    for must_not in ("outside the screen", "Submit", "horizontal scrollbar", "squeezed", "diagnostics show"):
        assert must_not not in problems, problems
