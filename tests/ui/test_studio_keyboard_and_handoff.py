"""Keyboard reach of every action, panel keys that win in their panel, take export, engine switch."""

from __future__ import annotations

import time
from pathlib import Path

import opentimelineio as otio
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QKeySequence, QPalette
from PySide6.QtWidgets import QApplication, QDockWidget

from kling_studio.domain.jobs import JobState
from kling_studio.services.logging_setup import redacting_filter
from kling_studio.services.secrets import get_api_key
from kling_studio.services.settings import BACKEND_LOCAL, AppSettings
from kling_studio.ui import theme
from kling_studio.ui.engine_switch import LATER, switch_engine
from kling_studio.ui.preview_sample import write_sample_video
from kling_studio.ui.queue_demo import DemoEngine, make_job
from kling_studio.ui.settings_dialog import SettingsDialog
from kling_studio.ui.take_export import NO_TAKE

from .studio_helpers import load, make_window, storyboard, wait_until

REQUIRED = [
    "new",
    "open",
    "open_recent",
    "save",
    "save_as",
    "undo",
    "redo",
    "add_shot",
    "duplicate_shot",
    "delete_shot",
    "move_up",
    "move_down",
    "play_animatic",
    "copy_prompt",
    "copy_curl",
    "submit",
    "settings",
    "about",
    "export_sheet",
    "export_take",
]


def done_job(tmp_path: Path, job_id: str = "take-1"):
    video = write_sample_video(tmp_path / "library" / f"{job_id}.mp4", (1, 2), size=(96, 64), fps=24)
    return make_job("Harbour", state=JobState.DONE, shots=(1, 2), job_id=job_id, video_path=str(video))


def panels_window(qtbot, engine: DemoEngine):
    window = make_window(qtbot, engine=engine)  # type: ignore[arg-type]
    window.attach_job_panels(engine)  # type: ignore[arg-type]
    return window


async def test_every_action_has_its_own_shortcut(qtbot) -> None:
    window = make_window(qtbot)
    actions = window.studio_actions
    seen: dict[str, str] = {}
    for name in REQUIRED:
        shortcuts = getattr(actions, name).shortcuts()
        assert shortcuts, f"{name} has no keyboard shortcut"
        for seq in shortcuts:
            key = seq.toString()
            assert key not in seen, f"{name} and {seen.get(key)} share {key}"
            seen[key] = name
    assert actions.submit.shortcuts() == [QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")]


async def test_ctrl_return_and_keypad_ctrl_enter_both_submit(qtbot) -> None:
    window = make_window(qtbot)
    load(window, storyboard(("a cat", 3), ("a dog", 2)))
    editor = window.shot_editor.text_edit
    editor.setFocus()
    qtbot.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    await wait_until(lambda: len(window.engine.submitted) == 1)  # type: ignore[union-attr]
    keypad = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.KeypadModifier
    qtbot.keyClick(editor, Qt.Key.Key_Enter, keypad)
    await wait_until(lambda: len(window.engine.submitted) == 2)  # type: ignore[union-attr]
    assert editor.toPlainText() == "a cat"  # the key submitted; it typed no line break


async def test_open_recent_shortcut_pops_up_the_recent_projects(qtbot, tmp_path: Path) -> None:
    window = make_window(qtbot)
    assert window.files.save_to(str(tmp_path / "one.kling.json"))
    menu = window.studio_actions.recent_menu
    qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert menu.isVisible()
    assert [a.text() for a in menu.actions()] == ["one"]
    menu.close()


async def test_delete_in_the_queue_removes_the_job_and_keeps_the_shots(qtbot, tmp_path: Path) -> None:
    engine = DemoEngine([done_job(tmp_path)])
    window = panels_window(qtbot, engine)
    load(window, storyboard(("a", 2), ("b", 2)))
    queue = window.job_panels.queue  # type: ignore[union-attr]
    queue.ask_remove = lambda _parent, _job: (True, False)
    queue.select_job("take-1")
    queue.view.setFocus()
    qtbot.keyClick(queue.view, Qt.Key.Key_Delete)
    await wait_until(lambda: ("remove", ("take-1", False)) in engine.calls)
    assert len(window.document.storyboard.shots) == 2
    # In the shot list the same key deletes the shot.
    window.shot_list.view.setFocus()
    qtbot.keyClick(window.shot_list.view, Qt.Key.Key_Delete)
    assert len(window.document.storyboard.shots) == 1


async def test_queue_status_shows_as_soon_as_the_queue_is_attached(qtbot, tmp_path: Path) -> None:
    running = make_job("Running", state=JobState.PROCESSING, job_id="run-1", submitted_at=time.time())
    window = panels_window(qtbot, DemoEngine([running]))
    assert window.queue_status.isVisible()
    assert "1 job in flight" in window.queue_status.text()
    assert "spent today" in window.queue_status.text()


async def test_a_take_exports_for_an_editor_from_the_queue_and_file_menu(qtbot, tmp_path: Path) -> None:
    engine = DemoEngine([done_job(tmp_path)])
    window = panels_window(qtbot, engine)
    export = window.studio_actions.export_take
    assert export in window.job_panels.queue.extra_context_actions  # type: ignore[union-attr]
    assert export in window.job_panels.takes.extra_context_actions  # type: ignore[union-attr]
    file_menu = window.menuBar().actions()[0].menu()
    assert export in file_menu.actions()
    # Nothing selected: it says what to do.
    export.trigger()
    assert window.statusBar().currentMessage() == NO_TAKE
    out = tmp_path / "handoff" / "harbour.fcpxml"
    window.take_export.choose_path = lambda _job: str(out)  # type: ignore[method-assign]
    window.job_panels.queue.select_job("take-1")  # type: ignore[union-attr]
    export.trigger()
    await wait_until(lambda: "Exported" in window.statusBar().currentMessage(), 30)
    timeline = otio.adapters.read_from_file(str(out))
    markers = [m for clip in timeline.find_clips() for m in clip.markers]
    assert [m.name.split(":")[0] for m in markers] == ["Shot 1", "Shot 2"]


async def test_settings_keep_autoplay_and_scrub_a_new_key_from_logs(qtbot) -> None:
    dialog = SettingsDialog(AppSettings())
    qtbot.addWidget(dialog)
    dialog.autoplay.setChecked(False)
    key = "sk-fresh-key-for-redaction-5521"
    qtbot.keyClicks(dialog.api_key, key)
    dialog.accept()
    assert dialog.result_settings().autoplay is False
    assert get_api_key() == key
    assert key not in redacting_filter().redact(f"request failed with key {key}")


async def test_settings_switch_the_engine_without_a_restart(qtbot, tmp_path: Path) -> None:
    old = DemoEngine([done_job(tmp_path)])
    window = panels_window(qtbot, old)
    built: list[DemoEngine] = []

    def factory(settings: AppSettings) -> DemoEngine:
        built.append(DemoEngine(old.jobs(), is_local=settings.backend == BACKEND_LOCAL))
        return built[-1]

    window.update_settings(backend=BACKEND_LOCAL)
    assert await switch_engine(window, factory)  # type: ignore[arg-type]
    assert window.engine is built[0] and ("start", None) in built[0].calls
    assert ("stop", None) in old.calls
    assert window.backend_label.text() == "Local preview — no credits spent"
    assert window.job_panels.queue.model.rowCount() == 1  # type: ignore[union-attr]
    QApplication.processEvents()
    docks = [d for d in window.findChildren(QDockWidget) if d.objectName() == "takesDock"]
    assert len(docks) == 1
    # With a job in flight it waits and says so.
    built[0].put(make_job("Busy", state=JobState.PROCESSING, job_id="busy"))
    assert not await switch_engine(window, factory)  # type: ignore[arg-type]
    assert window.statusBar().currentMessage() == LATER


async def test_timeline_names_total_and_range_and_counters_carry_colour(qtbot) -> None:
    window = make_window(qtbot)
    load(window, storyboard(("a", 2), ("b", 3)))
    assert window.timeline.toolTip().startswith("Total 5 s · allowed 3–15 s")
    load(window, storyboard(("a", 1), ("b", 1)))
    assert "1 s short" in window.timeline.toolTip() and "allowed 3–15 s" in window.timeline.toolTip()
    counter = window.prompt_preview.counter
    assert counter.palette().color(QPalette.ColorRole.WindowText).name() == theme.colors().success
    load(window, storyboard(*[("y" * 510, 2)] * 6))
    assert counter.palette().color(QPalette.ColorRole.WindowText).name() == theme.colors().error


async def test_clicking_the_picture_focuses_the_preview_for_space(qtbot, tmp_path: Path) -> None:
    window = panels_window(qtbot, DemoEngine([]))
    preview = window.job_panels.preview  # type: ignore[union-attr]
    window.preview_dock.show()
    qtbot.mouseClick(preview.screen_stack, Qt.MouseButton.LeftButton, pos=QPoint(20, 20))
    assert preview.hasFocus()


async def test_no_keyring_says_what_to_do_instead(qtbot, monkeypatch) -> None:
    import keyring
    from keyring.errors import NoKeyringError

    def refuse(*_args: object) -> None:
        raise NoKeyringError("no backend")

    monkeypatch.setattr(keyring, "set_password", refuse)
    dialog = SettingsDialog(AppSettings())
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.api_key, "sk-nowhere-to-keep-0001")
    dialog.accept()
    assert dialog.result() != SettingsDialog.DialogCode.Accepted
    assert "KLING_STUDIO_API_KEY" in dialog.error.text()


async def test_delete_in_the_takes_list_leaves_the_shots_alone(qtbot, tmp_path: Path) -> None:
    window = panels_window(qtbot, DemoEngine([done_job(tmp_path)]))
    load(window, storyboard(("a", 2), ("b", 2)))
    takes = window.job_panels.takes  # type: ignore[union-attr]
    window.job_panels.takes_dock.show()  # type: ignore[union-attr]
    window.job_panels.takes_dock.raise_()  # type: ignore[union-attr]
    takes.model.set_project_path(None)
    takes.view.setFocus()
    qtbot.keyClick(takes.view, Qt.Key.Key_Delete)
    assert len(window.document.storyboard.shots) == 2


async def test_clicking_a_diagnostic_selects_its_shot(qtbot) -> None:
    window = make_window(qtbot)
    load(window, storyboard(("a cat", 3), ("a dog; fast", 2)))
    window.document.select(0)
    view = window.prompt_preview.list
    index = view.model().index(0, 0)
    assert "semicolon" in index.data()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(index).center())
    assert window.document.selected == 1
    assert window.shot_editor.title_label.text() == "SHOT 2"
