"""Keyboard only: every key goes to the focused widget with QTest, as a person types."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QColor, QImage, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog, QMenu

from kling_studio.services.project_io import save_project
from kling_studio.ui.queue_demo import demo_engine

from .studio_helpers import FakeEngine, focused, load, make_window, storyboard, wait_until

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
ALT = Qt.KeyboardModifier.AltModifier


def key(k: Qt.Key, mods: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    QTest.keyClick(focused(), k, mods)


def type_text(text: str) -> None:
    QTest.keyClicks(focused(), text)


async def test_new_and_open_put_the_caret_in_shot_one(qtbot, tmp_path: Path) -> None:
    window = make_window(qtbot)
    load(window, storyboard(("first", 3), ("second", 2)))
    window.shot_list.view.setFocus()
    window.document.select(1)
    key(Qt.Key.Key_N, CTRL)
    assert focused() is window.shot_editor.text_edit
    type_text("a lighthouse at dusk")
    assert window.document.storyboard.shots[0].text == "a lighthouse at dusk"
    project = tmp_path / "two.kling.json"
    save_project(str(project), storyboard(("one", 2), ("two", 3), title="Two"))
    window.title_edit.setFocus()
    assert window.files.open(str(project))
    assert focused() is window.shot_editor.text_edit
    assert window.document.selected == 0
    type_text("!")
    assert window.document.storyboard.shots[0].text == "one!"


async def test_enter_or_f2_edits_the_row_and_escape_returns_to_the_list(qtbot) -> None:
    window = make_window(qtbot)
    load(window, storyboard(("one", 2), ("two", 2), ("three", 2)))
    view = window.shot_list.view
    view.setFocus()
    window.document.select(0)
    key(Qt.Key.Key_Down)
    assert window.document.selected == 1
    key(Qt.Key.Key_Return)
    assert focused() is window.shot_editor.text_edit
    type_text(" and more")
    assert window.document.storyboard.shots[1].text == "two and more"
    key(Qt.Key.Key_Escape)
    assert focused() is view
    key(Qt.Key.Key_Down)
    key(Qt.Key.Key_F2)
    assert focused() is window.shot_editor.text_edit
    assert window.document.selected == 2
    key(Qt.Key.Key_Tab)
    assert focused() is window.shot_editor.seconds
    key(Qt.Key.Key_Escape)
    assert focused() is view


async def test_tab_walks_the_panels_in_reading_order_and_shift_tab_back(qtbot) -> None:
    window = make_window(qtbot)
    load(window, storyboard(("one", 2), ("two", 2)))
    window.document.select(0)
    sl, ge, ff = window.shot_list, window.generation_panel, window.first_frame
    expected = [
        window.title_edit,
        sl.view,
        sl.add_button,
        sl.duplicate_button,
        sl.delete_button,
        sl.down_button,  # Up is disabled on shot 1
        window.shot_editor.text_edit,
        window.shot_editor.seconds,
        window.timeline,
        ge.resolution,
        ge.aspect_ratio,
        ge.watermark,
        window.prompt_preview.view,
        window.prompt_preview.list,
        ff.browse_button,
        ff.url_edit,
        ff.url_button,
        window.animatic_button,
        window.submit_button,
    ]
    # The diagnostics list hides when all is well; the shot buttons when the window is short.
    expected = [w for w in expected if w.isVisible()]
    assert window.submit_button in expected
    window.title_edit.setFocus()
    seen = [focused()]
    for _ in expected[1:]:
        key(Qt.Key.Key_Tab)
        seen.append(focused())
    assert seen == expected  # the shot table is no Tab trap: one Tab leaves it
    back = [focused()]
    for _ in expected[1:]:
        key(Qt.Key.Key_Backtab, SHIFT)
        back.append(focused())
    assert back == list(reversed(expected))


async def test_undo_and_redo_from_any_field(qtbot) -> None:
    window = make_window(qtbot)
    load(window, storyboard(("one", 2), ("two", 2)))
    window.document.select(0)
    seconds = window.shot_editor.seconds
    seconds.setFocus(Qt.FocusReason.TabFocusReason)
    key(Qt.Key.Key_Up)
    assert window.document.storyboard.shots[0].duration == 3
    key(Qt.Key.Key_Z, CTRL)  # the spin box's own line-edit history must not swallow it
    assert window.document.storyboard.shots[0].duration == 2
    assert seconds.value() == 2
    key(Qt.Key.Key_Z, CTRL | SHIFT)
    assert window.document.storyboard.shots[0].duration == 3
    window.title_edit.setFocus()
    window.title_edit.selectAll()
    type_text("Renamed")
    assert window.document.storyboard.title == "Renamed"
    key(Qt.Key.Key_Z, CTRL)
    assert window.document.storyboard.title != "Renamed"
    window.shot_editor.text_edit.setFocus()
    key(Qt.Key.Key_Z, CTRL)
    assert window.document.storyboard.shots[0].duration == 2
    key(Qt.Key.Key_Y, CTRL)
    assert window.document.storyboard.shots[0].duration == 3


def _menu_actions(menu: QMenu) -> list[QAction]:
    found: list[QAction] = []
    for action in menu.actions():
        sub = action.menu()
        found.append(action)
        if isinstance(sub, QMenu):
            found += _menu_actions(sub)
    return found


async def test_every_action_with_a_shortcut_has_a_menu_entry_showing_it(qtbot, tmp_path: Path) -> None:
    engine, _now = demo_engine(tmp_path / "media")
    window = make_window(qtbot, engine=engine)  # type: ignore[arg-type]
    window.attach_job_panels(engine)  # type: ignore[arg-type]
    in_menus: set[int] = set()
    for top in window.menuBar().actions():
        if isinstance(top.menu(), QMenu):
            in_menus.update(id(a) for a in _menu_actions(top.menu()))
    with_keys = [a for a in window.findChildren(QAction) if a.shortcuts() and a.text()]
    assert len(with_keys) > 30
    missing = [f"{a.text()} ({a.shortcut().toString()})" for a in with_keys if id(a) not in in_menus]
    assert missing == []
    assert not QApplication.testAttribute(Qt.ApplicationAttribute.AA_DontShowShortcutsInContextMenus)
    retry = window.job_panels.queue.action_retry  # type: ignore[union-attr]
    assert retry.shortcut() == QKeySequence("Ctrl+R")
    queue_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Queue")
    assert retry in queue_menu.actions()


async def test_a_storyboard_written_saved_and_submitted_with_the_keyboard_only(qtbot, tmp_path: Path) -> None:
    engine = FakeEngine()
    window = make_window(qtbot, engine=engine)
    home = tmp_path / "projects"
    home.mkdir()
    window.title_edit.setFocus()
    key(Qt.Key.Key_N, CTRL)  # a new storyboard: the caret is in shot 1
    type_text("Wide shot of a harbour at dawn")
    key(Qt.Key.Key_T, CTRL)  # add shot 2; the caret follows
    type_text("A gull lands on a mooring post")
    key(Qt.Key.Key_T, CTRL)
    type_text("Close-up of the gull's eye")
    assert [s.text for s in window.document.storyboard.shots] == [
        "Wide shot of a harbour at dawn",
        "A gull lands on a mooring post",
        "Close-up of the gull's eye",
    ]
    # Retime shot 3: Tab to Seconds, type 4 over the selected value.
    key(Qt.Key.Key_Tab)
    assert focused() is window.shot_editor.seconds
    key(Qt.Key.Key_A, CTRL)
    type_text("4")
    key(Qt.Key.Key_Return)
    assert window.document.storyboard.shots[2].duration == 4
    # Reorder: back to the list, move the close-up before the gull landing.
    key(Qt.Key.Key_Escape)
    assert focused() is window.shot_list.view
    first, second, _third = (s.duration for s in window.document.storyboard.shots)
    key(Qt.Key.Key_Up, ALT)
    order = [first, 4, second]
    assert [s.duration for s in window.document.storyboard.shots] == order
    assert window.document.storyboard.shots[1].text == "Close-up of the gull's eye"
    # Attach a frame by paste (a copied picture on the real clipboard).
    picture = QImage(960, 540, QImage.Format.Format_RGB32)
    picture.fill(QColor(200, 140, 60))
    QApplication.clipboard().setImage(picture)
    key(Qt.Key.Key_V, CTRL | SHIFT)
    await wait_until(lambda: window.document.storyboard.first_frame is not None and not window.first_frame.busy)
    # Save with a typed file name: the key press runs from a plain Qt callback, because the
    # dialog's nested event loop must not run inside this test's task.
    target = home / "harbour"

    def save_with_keys() -> None:
        def type_name() -> None:
            dialog = QApplication.activeModalWidget()
            assert isinstance(dialog, QFileDialog)
            key(Qt.Key.Key_A, CTRL)
            type_text(str(target))
            key(Qt.Key.Key_Return)

        QTimer.singleShot(100, type_name)
        key(Qt.Key.Key_S, CTRL)

    QTimer.singleShot(0, save_with_keys)
    saved = target.with_name("harbour.kling.json")
    await wait_until(saved.exists)
    await wait_until(lambda: window.document.path == str(saved.resolve()))
    data = json.loads(saved.read_text("utf-8"))
    assert [s["duration"] for s in data["shots"]] == order
    assert data["first_frame"]["path"].endswith(".png")
    # Submit. (The offscreen platform has no window manager to hand activation back after the
    # dialog closes, as a desktop does.)
    window.activateWindow()
    await wait_until(lambda: QApplication.activeWindow() is window)
    window.shot_list.view.setFocus()  # wherever the focus is, Ctrl+Return submits
    key(Qt.Key.Key_Return, CTRL)
    await wait_until(lambda: len(engine.submitted) == 1)
    sent = engine.submitted[0]
    assert [s.duration for s in sent.shots] == order
    assert sent.shots[1].text == "Close-up of the gull's eye"
    assert sent.first_frame is not None and sent.first_frame.path is not None
    with Image.open(sent.first_frame.path) as img:
        assert img.size == (960, 540)


async def test_view_reset_layout_brings_the_docks_back(qtbot, tmp_path: Path) -> None:
    engine, _now = demo_engine(tmp_path / "media")
    window = make_window(qtbot, engine=engine)  # type: ignore[arg-type]
    window.attach_job_panels(engine)  # type: ignore[arg-type]
    assert window.reset_layout_action in window.view_menu.actions()
    queue_area = window.dockWidgetArea(window.queue_dock)
    window.queue_dock.setFloating(True)
    window.preview_dock.hide()
    window.resize(3000, 2000)  # dragged past the screen
    window.reset_layout_action.trigger()
    QApplication.processEvents()
    assert not window.queue_dock.isFloating()
    assert window.preview_dock.isVisible() and window.queue_dock.isVisible()
    assert window.dockWidgetArea(window.queue_dock) == queue_area
    screen = window.screen().availableGeometry()

    def fits() -> bool:
        frame = window.frameGeometry()
        extra = frame.width() - window.width()  # the frame the platform draws
        # The test screen is 800x800: narrower than the window can be, so only as narrow as allowed.
        narrow_enough = frame.width() <= max(screen.width(), window.minimumSize().width() + extra)
        return narrow_enough and frame.height() <= screen.height() and frame.top() >= screen.top()

    await wait_until(fits)
