"""Files and clipboard: save/open round-trip, autosave and recovery, closing, copy as cURL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

from kling_studio.domain.storyboard import FirstFrame
from kling_studio.services.secrets import set_api_key
from kling_studio.services.settings import AppSettings
from kling_studio.ui.about_dialog import about_facts
from kling_studio.ui.recovery import RecoveryStore

from .studio_helpers import file_size, load, make_window, storyboard, wait_until, write_image

Answer = QMessageBox.StandardButton


async def test_save_then_open_round_trips(qtbot, tmp_path: Path) -> None:
    window = make_window(qtbot)
    image = write_image(tmp_path / "frame.png", (640, 640))
    sb = storyboard(("shot one; with semicolon", 4), ("two", 3), title="Round trip")
    sb = sb.with_settings(resolution="1080p", watermark=False).with_first_frame(FirstFrame(path=str(image)))
    load(window, sb)
    window.shot_editor.text_edit.setPlainText("edited first shot")
    assert window.isWindowModified()
    target = tmp_path / "round.kling.json"
    window.files.choose_save_path = lambda: str(target)  # type: ignore[method-assign]
    assert window.files.save_as()
    assert not window.isWindowModified()
    assert window.windowTitle().startswith("round[*]")
    saved = json.loads(target.read_text("utf-8"))
    assert saved["first_frame"] == {"path": "frame.png"}  # relative to the project
    edited = window.document.storyboard
    window.files.new()
    assert window.document.storyboard != edited
    assert window.files.open(str(target))
    assert window.document.storyboard == edited
    assert window.document.path == str(target.resolve())
    assert window.settings.recent_files[0] == str(target.resolve())
    assert window.settings.last_project == str(target.resolve())


async def test_open_reports_a_broken_file_and_keeps_the_storyboard(qtbot, tmp_path: Path) -> None:
    window = make_window(qtbot)
    load(window, storyboard(("keep me", 3)))
    broken = tmp_path / "broken.kling.json"
    broken.write_text('{"schema": 1, "title": ')
    assert not window.files.open(str(broken))
    assert "not valid JSON" in window.statusBar().currentMessage()
    assert window.document.storyboard.shots[0].text == "keep me"


async def test_autosave_writes_a_draft_that_the_next_start_recovers(qtbot) -> None:
    window = make_window(qtbot)
    load(window, storyboard(("draft", 3)))
    window.shot_editor.text_edit.setPlainText("unsaved words")
    window.files.autosave()
    store = RecoveryStore(window.paths.recovery_dir)
    assert store.read() is not None
    # A second window (the next start) offers the draft and restores it as unsaved work.
    again = make_window(qtbot)
    again.files.ask_recover = lambda when: True  # type: ignore[method-assign]
    assert again.files.offer_recovery()
    assert again.document.storyboard.shots[0].text == "unsaved words"
    assert again.isWindowModified()


async def test_closing_with_unsaved_changes_asks(qtbot) -> None:
    window = make_window(qtbot)
    load(window, storyboard(("x", 3)))
    window.shot_editor.text_edit.setPlainText("changed")
    asked: list[bool] = []

    def cancel() -> Answer:
        asked.append(True)
        return Answer.Cancel

    window.files.ask_save_changes = cancel  # type: ignore[method-assign]
    assert not window.close()
    assert asked and window.isVisible()
    window.files.ask_save_changes = lambda: Answer.Discard  # type: ignore[method-assign]
    window.files.autosave()
    assert window.close()
    # A clean exit leaves nothing to recover.
    assert RecoveryStore(window.paths.recovery_dir).read() is None


async def test_copy_as_curl_uses_the_variable_never_the_key(qtbot) -> None:
    secret = "sk-test-very-secret-key-1234"
    set_api_key(secret)
    window = make_window(qtbot, settings=AppSettings(base_url="https://api.example.test", banner_dismissed=True))
    load(window, storyboard(("it's a quote test", 5)))
    window.studio_actions.copy_curl.trigger()
    text = QApplication.clipboard().text()
    assert "$KLING_STUDIO_API_KEY" in text
    assert secret not in text
    assert "https://api.example.test/v1/videos/generations" in text
    body = text.split("--data-raw ", 1)[1].strip()
    import shlex

    assert json.loads(shlex.split(body)[0]) == window.document.compiled.request
    window.studio_actions.copy_prompt.trigger()
    assert QApplication.clipboard().text() == "it's a quote test"


async def test_banner_shows_without_a_key_and_remembers_dismissal(qtbot) -> None:
    window = make_window(qtbot, settings=AppSettings())
    assert window.banner.isVisible()
    assert "no credits spent" in window.banner.text.text()
    assert window.backend_label.text() == "Local preview — no credits spent"
    window.banner.close_button.click()
    assert not window.banner.isVisible()
    assert window.stored_settings[-1].banner_dismissed  # type: ignore[attr-defined]


async def test_about_lists_versions_and_folders(qtbot) -> None:
    window = make_window(qtbot)
    facts = dict(about_facts(window.paths, window.settings))
    assert {"Kling Studio", "Qt", "PySide6", "Python", "Settings", "Logs", "Library"} <= facts.keys()
    assert facts["Logs"] == str(window.paths.log_dir)


async def test_animatic_runs_off_the_gui_thread_and_reports(qtbot, tmp_path: Path) -> None:
    window = make_window(qtbot)
    load(window, storyboard(("a", 1), ("b", 2)))
    results: list[str] = []
    window.generation.animatic.finished.connect(results.append)
    window.generation.animatic.failed.connect(results.append)
    window.studio_actions.play_animatic.trigger()
    assert window.generation.animatic.running
    await wait_until(lambda: bool(results), 60)
    assert results[0].endswith(".mp4"), results
    assert file_size(results[0]) > 0


def test_smoke_start_opens_the_window_and_quits(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, "-m", "kling_studio", "--smoke"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]


async def test_job_panels_fill_the_docks_and_follow_submits(qtbot) -> None:
    from kling_studio.ui.preview_panel import PreviewPanel
    from kling_studio.ui.queue_demo import DemoEngine
    from kling_studio.ui.queue_panel import QueuePanel

    engine = DemoEngine(is_local=True)
    window = make_window(qtbot, engine=engine)  # type: ignore[arg-type]
    window.attach_job_panels(engine)
    assert isinstance(window.queue_dock.widget(), QueuePanel)
    assert isinstance(window.preview_dock.widget(), PreviewPanel)
    load(window, storyboard(("a quiet harbour", 4)))
    window.studio_actions.submit.trigger()
    await wait_until(lambda: len(engine.jobs()) == 1)
    queue = window.queue_dock.widget()
    await wait_until(lambda: queue.model.rowCount() == 1)


async def test_window_geometry_and_dock_layout_persist(qtbot) -> None:
    window = make_window(qtbot)
    window.resize(720, 640)  # the offscreen screen is 800×800
    window.queue_dock.hide()
    assert window.close()
    again = make_window(qtbot)
    assert again.size().width() == 720
    assert not again.queue_dock.isVisible()
