"""Startup: process start → first painted window, Kling Studio vs a bare PySide6 window.

Both are started the same way (a fresh ``python`` process, offscreen unless QT_QPA_PLATFORM says
otherwise, a throwaway KLING_STUDIO_HOME so it is a first run with the sample project). Each child
prints the system-wide monotonic clock at the first paint of its main window; the parent subtracts
the moment it started the process. Prints the median of several runs; asserts nothing.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/startup_bench.py [--runs 7] [--breakdown]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import report

# Shared by both children: stop at the first paint of a main window and print when it happened.
_PAINT_PROBE = """
import sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

class FirstPaint(QObject):
    done = False
    def eventFilter(self, obj, event):
        if not self.done and event.type() == QEvent.Type.Paint and isinstance(obj, QMainWindow):
            self.done = True
            print(f"PAINTED {time.monotonic():.6f}", flush=True)
            QTimer.singleShot(0, obj.close)
        return False

app = QApplication(sys.argv[:1])
probe = FirstPaint()
app.installEventFilter(probe)
"""

_BARE = (
    _PAINT_PROBE
    + """
window = QMainWindow()
window.resize(1280, 800)
window.setWindowTitle("bare")
window.show()
app.exec()
"""
)

_STUDIO = (
    _PAINT_PROBE
    + """
from kling_studio.app import run_gui
sys.exit(run_gui(None))
"""
)


# Where the studio's time goes, each stage a fresh process with the same probe (``--breakdown``):
# the bare window after importing the studio's first-paint modules (Python imports and the
# PySide6 enum classes they create), then the studio window built and painted without the
# application style sheet and without a project, then with the sheet.
_IMPORTS = (
    _PAINT_PROBE
    + """
import kling_studio.app, kling_studio.ui.main_window, kling_studio.ui.sequence_controller
window = QMainWindow()
window.resize(1280, 800)
window.show()
app.exec()
"""
)

_BUILT = (
    _PAINT_PROBE
    + """
from kling_studio.services.secrets import assume_key_until_asked
from kling_studio.services.settings import AppSettings
from kling_studio.ui import theme
assume_key_until_asked(False)  # as start-up does: the keyring is asked after the first paint
from kling_studio.ui.main_window import StudioWindow
app.setStyle("Fusion")
app.setPalette(theme._palette(theme.DARK))
{sheet}
window = StudioWindow(AppSettings(banner_dismissed=True), store_settings=lambda _s: None)
window.document.undo_stack.setClean()
window.show()
app.exec()
"""
)

STAGES = {
    "+ importing the studio": _IMPORTS,
    "+ building the window (no style sheet)": _BUILT.replace("{sheet}", ""),
    "+ the style sheet": _BUILT.replace("{sheet}", "app.setStyleSheet(theme.style_sheet(theme.DARK))"),
}


def one_run(code: str) -> float:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["KLING_STUDIO_HOME"] = tempfile.mkdtemp(prefix="kling-bench-")
    env.pop("KLING_STUDIO_API_KEY", None)
    # An installed app runs from compiled bytecode (pip writes it); let the warm-up run write ours.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    for line in done.stdout.splitlines():
        if line.startswith("PAINTED "):
            return float(line.split()[1]) - start
    raise RuntimeError(f"no paint reported (exit {done.returncode}): {done.stderr[-800:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--breakdown", action="store_true", help="also time the stages in between")
    args = parser.parse_args()
    one_run(_BARE)  # warm the file cache so the first measured run is not an outlier
    one_run(_STUDIO)
    stages = STAGES if args.breakdown else {}
    results: dict[str, list[float]] = {"bare PySide6 window": [], **{name: [] for name in stages}, "Kling Studio": []}
    for _ in range(args.runs):  # interleaved, so a busy moment on a shared machine hits every stage alike
        results["bare PySide6 window"].append(one_run(_BARE))
        for name, code in stages.items():
            results[name].append(one_run(code))
        results["Kling Studio"].append(one_run(_STUDIO))
    print(
        f"process start → first painted window, {args.runs} runs, platform {os.environ.get('QT_QPA_PLATFORM', 'offscreen')}"
    )
    for name, values in results.items():
        print(
            f"  {name:40s} median {statistics.median(values) * 1000:7.0f} ms"
            f"   min {min(values) * 1000:6.0f} ms   max {max(values) * 1000:6.0f} ms"
        )
    extra = statistics.median(results["Kling Studio"]) - statistics.median(results["bare PySide6 window"])
    print(f"  Kling Studio's own start-up cost: {extra * 1000:.0f} ms over the bare window")
    report(
        "process start → first painted studio window",
        statistics.median(results["Kling Studio"]) * 1000,
        "ms",
        1.6,
        1.15,
        floor=statistics.median(results["bare PySide6 window"]) * 1000,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
