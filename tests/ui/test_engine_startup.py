"""Issue 13, first paint first: the window shows before the engine; a Submit made while the queue
is starting waits for it (Ctrl+Enter on the focused window), never fails."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from kling_studio.ui.engine_startup import EngineStartup, startup_of
from tests.ui.studio_helpers import FakeEngine, load, make_window, storyboard, wait_until


def starting_window(qtbot):  # type: ignore[no-untyped-def]
    window = make_window(qtbot)
    window.set_engine(None)  # as run_gui paints it: no engine yet, the queue starting
    startup = EngineStartup(window)
    window.generation.update_submit_state()
    load(window, storyboard(("a lighthouse at dusk", 5)))
    return window, startup


async def test_a_submit_while_the_queue_starts_goes_through_once_it_has_started(qtbot) -> None:
    window, startup = starting_window(qtbot)
    assert window.submit_button.isEnabled()  # not refused while the engine starts
    window.shot_editor.text_edit.setFocus()
    QTest.keyClick(window.shot_editor.text_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    await wait_until(lambda: "as soon as the queue has started" in window.statusBar().currentMessage())
    assert not window.submit_button.isEnabled()  # one waiting submit: a second press adds nothing
    engine = FakeEngine()
    startup.finish()
    window.set_engine(engine)
    await wait_until(lambda: len(engine.submitted) == 1)
    assert engine.submitted[0] == window.document.storyboard
    assert startup_of(window) is None
    assert window.submit_button.isEnabled()


async def test_a_waiting_submit_says_so_when_no_queue_starts(qtbot) -> None:
    window, startup = starting_window(qtbot)
    window.studio_actions.submit.trigger()
    await wait_until(lambda: "as soon as the queue has started" in window.statusBar().currentMessage())
    startup.finish()
    window.set_engine(None)  # another process runs the queue, or the engine failed
    await wait_until(lambda: "Nothing was submitted" in window.statusBar().currentMessage())
    assert not window.submit_button.isEnabled()
    assert "not running" in window.submit_button.toolTip()


_FIRST_RUN = """
import sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
started = time.monotonic()

def look():
    windows = [w for w in app.topLevelWidgets() if isinstance(w, QMainWindow) and w.isVisible()]
    facts = windows[0].first_frame.facts_label.text() if windows else ""
    if (facts and facts != "Reading…") or time.monotonic() - started > 20:
        print("FACTS " + facts, flush=True)
        windows[0].document.undo_stack.setClean()
        windows[0].close()
    else:
        QTimer.singleShot(100, look)

QTimer.singleShot(100, look)
from kling_studio.app import run_gui
sys.exit(run_gui(None))
"""


def test_the_project_opened_at_start_up_has_its_first_frame_read(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The real start-up (``run_gui`` in its own process): the sample project opens before the
    asyncio loop exists, and its first frame is still measured once the loop runs (it stayed
    "Reading…" for good when the measuring task was dropped for want of a loop)."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", KLING_STUDIO_HOME=str(tmp_path / "home"))
    env.pop("KLING_STUDIO_API_KEY", None)
    done = subprocess.run([sys.executable, "-c", _FIRST_RUN], env=env, capture_output=True, text=True, timeout=120)
    facts = [line for line in done.stdout.splitlines() if line.startswith("FACTS ")]
    assert facts, done.stderr[-2000:]
    assert facts[0] == "FACTS 1280×720 px · 1.78:1 · PNG · 118 KB"
