"""A plain prompt as long as the API allows, and Split into Shots — driven by real keys and the real clipboard.

Keys go to the widget that has focus (``QApplication.focusWidget()``), text arrives through the
real ``QClipboard`` and Ctrl+V, and what is checked is what a person sees: counters, the
diagnostics list, Submit, the shot list.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QStyleOptionViewItem, QWidget

from kling_studio.domain.limits import KLING_3_TURBO
from kling_studio.ui.main_window import StudioWindow
from kling_studio.ui.prompt_preview import SEVERITY_ROLE
from kling_studio.ui.shot_table_model import COL_CHARS
from kling_studio.ui.theme import apply_theme

from .studio_helpers import load, make_window, storyboard, wait_until

CTRL = Qt.KeyboardModifier.ControlModifier
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
PROMPT_LIMIT = KLING_3_TURBO.max_prompt_chars

# A realistic text-to-video prompt, repeated to the length a test needs.
SENTENCE = "A lighthouse keeper climbs the spiral stairs at dusk, lantern swinging, gulls wheeling outside. "


def prose(length: int) -> str:
    """``length`` characters of prose that end in a full stop (nothing for the compiler to trim)."""
    return (SENTENCE * (length // len(SENTENCE) + 1))[: length - 1] + "."


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has keyboard focus"
    return widget


def focus_shot_text(window: StudioWindow) -> None:
    window.shot_editor.text_edit.setFocus(Qt.FocusReason.OtherFocusReason)
    QApplication.processEvents()
    assert focused() is window.shot_editor.text_edit


def paste(text: str) -> None:
    QApplication.clipboard().setText(text)
    QTest.keyClick(focused(), Qt.Key.Key_V, CTRL)


def diagnostics(window: StudioWindow) -> list[tuple[str, str]]:
    """(severity, message) of each row the diagnostics list shows."""
    model = window.prompt_preview.diagnostics
    return [(str(model.index(r).data(SEVERITY_ROLE)), str(model.index(r).data())) for r in range(model.rowCount())]


def assert_label_not_clipped(label: QLabel) -> None:
    needed = label.fontMetrics().horizontalAdvance(label.text())
    assert needed <= label.contentsRect().width(), f"{label.text()!r} needs {needed} px, has {label.width()}"


def assert_chars_cell_not_clipped(window: StudioWindow, row: int) -> None:
    view = window.shot_list.view
    index = window.shot_list.model.index(row, COL_CHARS)
    text = str(index.data())
    option = QStyleOptionViewItem()
    option.initFrom(view)
    hint = view.itemDelegate().sizeHint(option, index).width()
    width = view.columnWidth(COL_CHARS)
    assert view.fontMetrics().horizontalAdvance(text) + 12 <= width, f"{text!r} in a {width} px column"
    assert hint <= width, f"{text!r} wants {hint} px, the column has {width}"
    assert view.visualRect(index).width() == width and not view.isColumnHidden(COL_CHARS)


async def test_a_1500_character_prompt_pasted_and_typed_compiles_and_submits(qtbot) -> None:
    window = make_window(qtbot)
    focus_shot_text(window)
    body = prose(1490)
    paste(body)
    QTest.keyClicks(focused(), " the end.")
    QTest.keyClick(focused(), Qt.Key.Key_Exclam, Qt.KeyboardModifier.ShiftModifier)
    text = window.document.storyboard.shots[0].text
    assert len(text) == 1500 and text.startswith(SENTENCE)

    # The shot editor, the shot list and the prompt preview all count against 3072.
    assert window.shot_editor.counter.text() == f"1500/{PROMPT_LIMIT}"
    assert window.shot_editor.counter.objectName() == "counterOk"
    assert window.shot_list.model.index(0, COL_CHARS).data() == f"1500/{PROMPT_LIMIT}"
    assert window.prompt_preview.counter.text() == f"1500/{PROMPT_LIMIT}"
    assert_label_not_clipped(window.shot_editor.counter)
    assert_chars_cell_not_clipped(window, 0)
    # No error anywhere, Submit is enabled, and no offer to split a plain prompt.
    assert window.document.compiled.ok
    assert diagnostics(window) == []
    assert not window.prompt_preview.list.isVisible()
    assert window.submit_button.isEnabled() and window.studio_actions.submit.isEnabled()
    assert not window.shot_editor.split_bar.isVisible()
    assert not window.studio_actions.split_shots.isEnabled()

    qtbot.mouseClick(window.submit_button, Qt.MouseButton.LeftButton)
    engine = window.engine
    await wait_until(lambda: bool(engine.submitted))
    assert engine.submitted[0].shots[0].text == text


async def test_the_prompt_limit_and_its_advisory_for_one_shot(qtbot) -> None:
    window = make_window(qtbot)
    focus_shot_text(window)
    paste(prose(PROMPT_LIMIT))
    assert window.shot_editor.counter.text() == f"{PROMPT_LIMIT}/{PROMPT_LIMIT}"
    assert window.shot_editor.counter.objectName() == "counterWarn"  # over the 2500 APIMart recommends
    assert [sev for sev, _m in diagnostics(window)] == ["warning"]
    assert window.submit_button.isEnabled()

    QTest.keyClick(focused(), Qt.Key.Key_End, CTRL)
    QTest.keyClicks(focused(), "y")
    assert window.shot_editor.counter.text() == f"{PROMPT_LIMIT + 1}/{PROMPT_LIMIT}"
    assert window.shot_editor.counter.objectName() == "counterError"
    assert [sev for sev, _m in diagnostics(window)] == ["error"]
    assert f"the limit is {PROMPT_LIMIT}" in diagnostics(window)[0][1]
    assert not window.submit_button.isEnabled()
    assert_label_not_clipped(window.shot_editor.counter)
    assert_chars_cell_not_clipped(window, 0)


@pytest.fixture
def app_look_restored() -> Iterator[QApplication]:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    style, palette, sheet = app.style().name(), app.palette(), app.styleSheet()
    yield app
    app.setStyle(style)
    app.setPalette(palette)
    app.setStyleSheet(sheet)


@pytest.mark.parametrize("theme", ["light", "dark"])
async def test_counters_are_never_clipped_with_the_real_style_sheet(qtbot, app_look_restored, theme) -> None:
    apply_theme(app_look_restored, theme)  # the app's fonts, weights and item padding
    window = make_window(qtbot)
    for text in ("x" * 1500, "x" * 3073, "x" * 12000):
        load(window, storyboard((text, 5)))
        QApplication.processEvents()
        assert window.shot_editor.counter.text() == f"{len(text)}/{PROMPT_LIMIT}"
        assert_label_not_clipped(window.shot_editor.counter)
        assert_chars_cell_not_clipped(window, 0)
    load(window, storyboard(("y" * 600, 2), ("z" * 12, 3)))
    QApplication.processEvents()
    for row in (0, 1):
        assert_chars_cell_not_clipped(window, row)
    assert_label_not_clipped(window.shot_editor.counter)


async def test_counters_are_per_shot_in_a_storyboard(qtbot) -> None:
    window = make_window(qtbot)
    load(window, storyboard(("a" * 500, 2), ("b" * 600, 3)))
    model = window.shot_list.model
    assert model.index(0, COL_CHARS).data() == f"500/{KLING_3_TURBO.max_shot_chars}"
    assert model.index(1, COL_CHARS).data() == f"600/{KLING_3_TURBO.max_shot_chars}"
    window.document.select(1)
    assert window.shot_editor.counter.text() == f"600/{KLING_3_TURBO.max_shot_chars}"
    assert window.shot_editor.counter.objectName() == "counterError"
    for row in (0, 1):
        assert_chars_cell_not_clipped(window, row)
    assert_label_not_clipped(window.shot_editor.counter)


async def test_a_pasted_broken_storyboard_is_an_error_split_by_keyboard_and_undone(qtbot) -> None:
    window = make_window(qtbot)
    load(window, storyboard(("", 4)))
    focus_shot_text(window)
    paste("shot 1, 2, a; shot 2, 3, b;")

    # The model would read a storyboard of 5 s in a 4 s request: an error, named in words.
    [(severity, message)] = diagnostics(window)
    assert severity == "error"
    assert "written in the multi-shot format" in message and "add up to 5 s but the shot lasts 4 s" in message
    assert window.prompt_preview.list.isVisible()
    assert not window.submit_button.isEnabled()
    # Split is offered, inline and in the Edit menu.
    editor = window.shot_editor
    assert editor.split_bar.isVisible()
    assert editor.split_button.text() == "Split into 2 shots"
    assert window.studio_actions.split_shots.isEnabled()

    QTest.keyClick(focused(), Qt.Key.Key_L, CTRL_SHIFT)
    shots = window.document.storyboard.shots
    assert [(s.text, s.duration) for s in shots] == [("a", 2), ("b", 3)]
    assert window.shot_list.model.rowCount() == 2
    assert window.shot_list.model.index(1, COL_CHARS).data() == f"1/{KLING_3_TURBO.max_shot_chars}"
    assert window.document.compiled.ok and window.submit_button.isEnabled()
    assert window.prompt_preview.view.toPlainText() == "shot 1, 2, a; shot 2, 3, b;"
    assert not editor.split_bar.isVisible()
    assert "Split into 2 shots" in window.statusBar().currentMessage()

    QTest.keyClick(focused(), Qt.Key.Key_Z, CTRL)
    shots = window.document.storyboard.shots
    assert [(s.text, s.duration) for s in shots] == [("shot 1, 2, a; shot 2, 3, b;", 4)]
    assert window.shot_list.model.rowCount() == 1
    assert editor.text_edit.toPlainText() == "shot 1, 2, a; shot 2, 3, b;"
    assert editor.split_bar.isVisible()

    QTest.keyClick(focused(), Qt.Key.Key_Z, CTRL_SHIFT)
    assert len(window.document.storyboard.shots) == 2


async def test_a_valid_storyboard_in_one_shot_warns_and_splits_from_the_inline_button(qtbot) -> None:
    window = make_window(qtbot)  # File → New: one empty shot of 5 s
    focus_shot_text(window)
    paste("Shot 1, 2, a girl walks to the window; Shot 2, 3, thunder lights her face;")
    [(severity, message)] = diagnostics(window)
    assert severity == "warning" and "Split into Shots" in message
    assert window.submit_button.isEnabled()  # the server would take it as it is
    editor = window.shot_editor
    assert editor.split_label.text() == "This text is written as 2 shots (shot 1, 2, …;)."
    qtbot.mouseClick(editor.split_button, Qt.MouseButton.LeftButton)
    assert [(s.text, s.duration) for s in window.document.storyboard.shots] == [
        ("a girl walks to the window", 2),
        ("thunder lights her face", 3),
    ]
    assert diagnostics(window) == []


async def test_a_pasted_shot_list_becomes_a_storyboard_in_one_step(qtbot) -> None:
    window = make_window(qtbot)
    focus_shot_text(window)
    paste("3s  A girl walks toward a rain-streaked window\n\nClose-up of her reflection 4 s\nWide view of the street\n")
    editor = window.shot_editor
    assert editor.split_label.text() == "3 lines: one shot each?"
    assert editor.split_button.text() == "Split into 3 shots"
    window.studio_actions.split_shots.trigger()  # Edit → Split into Shots
    assert [(s.text, s.duration) for s in window.document.storyboard.shots] == [
        ("A girl walks toward a rain-streaked window", 3),
        ("Close-up of her reflection", 4),
        ("Wide view of the street", 1),  # what was left of the shot's 5 s... at least 1
    ]
    assert window.document.undo_stack.undoText() == "Split shot 1 into 3 shots"
    QTest.keyClick(focused(), Qt.Key.Key_Z, CTRL)
    assert len(window.document.storyboard.shots) == 1


async def test_too_many_lines_is_a_clear_error_and_nothing_changes(qtbot) -> None:
    window = make_window(qtbot)
    focus_shot_text(window)
    paste("\n".join(f"line {i}" for i in range(1, 8)))
    before = window.document.storyboard
    editor = window.shot_editor
    # Seven paragraphs may be a plain prompt: no nagging bar, but Split is there when asked for.
    assert not editor.split_bar.isVisible()
    assert window.studio_actions.split_shots.isEnabled()
    steps = window.document.undo_stack.count()
    QTest.keyClick(focused(), Qt.Key.Key_L, CTRL_SHIFT)
    assert window.document.storyboard == before
    assert window.document.undo_stack.count() == steps
    assert "at most 6" in window.statusBar().currentMessage()
    assert editor.split_bar.isVisible() and "at most 6" in editor.split_label.text()
    assert editor.split_label.objectName() == "inlineError"
    # Deleting a line makes it splittable: the error gives way to the offer.
    QTest.keyClick(focused(), Qt.Key.Key_End, CTRL)
    QTest.keyClick(focused(), Qt.Key.Key_Home, Qt.KeyboardModifier.ShiftModifier)
    QTest.keyClick(focused(), Qt.Key.Key_Backspace)
    QTest.keyClick(focused(), Qt.Key.Key_Backspace)
    assert editor.split_button.text() == "Split into 6 shots"
    assert editor.split_label.objectName() == "hint"


async def test_a_storyboard_in_the_shot_syntax_that_cannot_split_says_why_at_once(qtbot) -> None:
    window = make_window(qtbot)
    focus_shot_text(window)
    paste("shot 1, 2, a; shot 2, 0, b;")
    editor = window.shot_editor
    assert editor.split_bar.isVisible() and editor.split_label.objectName() == "inlineError"
    assert "Shot 2 lasts 0 s" in editor.split_label.text()
    assert [sev for sev, _m in diagnostics(window)] == ["error", "error"]  # 0 s, and 2 s ≠ the shot's 5 s


async def test_split_is_in_the_edit_menu_with_its_shortcut_and_idle_for_plain_text(qtbot) -> None:
    window = make_window(qtbot)
    action = window.studio_actions.split_shots
    edit_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    assert action in edit_menu.actions()
    assert action.shortcut().toString() == "Ctrl+Shift+L"
    assert not action.isEnabled()
    focus_shot_text(window)
    QTest.keyClicks(focused(), "a fox in the snow")
    QTest.keyClick(focused(), Qt.Key.Key_L, CTRL_SHIFT)  # nothing to split: nothing happens
    assert [s.text for s in window.document.storyboard.shots] == ["a fox in the snow"]
    # Two lines are enough to offer it.
    QTest.keyClick(focused(), Qt.Key.Key_Return)
    QTest.keyClicks(focused(), "a hare")
    assert action.isEnabled() and window.shot_editor.split_bar.isVisible()


async def test_tab_from_the_text_reaches_the_split_button_and_space_splits(qtbot) -> None:
    window = make_window(qtbot)
    focus_shot_text(window)
    QTest.keyClick(focused(), Qt.Key.Key_Tab)
    assert focused() is window.shot_editor.seconds  # no offer: the hidden button is skipped
    focus_shot_text(window)
    paste("A girl walks 2s\nThunder 3s")
    QTest.keyClick(focused(), Qt.Key.Key_Tab)
    assert focused() is window.shot_editor.split_button
    QTest.keyClick(focused(), Qt.Key.Key_Space)
    assert [(s.text, s.duration) for s in window.document.storyboard.shots] == [("A girl walks", 2), ("Thunder", 3)]
    assert focused() is window.shot_editor.text_edit  # typing goes on in shot 1
