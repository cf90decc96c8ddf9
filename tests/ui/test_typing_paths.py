"""What the typing-latency work (issue #13) must not change, checked with real keys on the focused editor.

The preview is edited in place (only the changed span), the shot list repaints one cell, the
counters have a fixed size and paint their own background, and the text views paint their own
viewport background. After every kind of edit the preview must still show exactly the compiled
prompt with exactly the sanitised semicolons highlighted, and the pixels must be the ones the
style sheet would have drawn.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from kling_studio.domain.limits import KLING_3_TURBO
from kling_studio.ui import theme
from kling_studio.ui.main_window import StudioWindow
from kling_studio.ui.prompt_preview import changed_span, utf16_offset
from kling_studio.ui.shot_table_model import COL_CHARS, COL_TEXT
from kling_studio.ui.theme import apply_theme
from kling_studio.ui.widgets import CounterLabel, set_style_name

from .studio_helpers import load, make_window, storyboard

CTRL = Qt.KeyboardModifier.ControlModifier
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has keyboard focus"
    return widget


def six_shots(window: StudioWindow) -> None:
    shots = [(f"Shot {n}: rain on the harbour; gulls over the cranes", 2) for n in range(1, 7)]
    load(window, storyboard(*shots))
    window.document.select(2)
    edit = window.shot_editor.text_edit
    edit.setFocus(Qt.FocusReason.OtherFocusReason)
    edit.moveCursor(edit.textCursor().MoveOperation.End)
    QApplication.processEvents()
    assert focused() is edit


def expected_spans(window: StudioWindow) -> list[tuple[int, int]]:
    compiled = window.document.compiled
    return [(utf16_offset(compiled.text, a), utf16_offset(compiled.text, b)) for a, b in compiled.sanitized_spans]


def assert_preview_exact(window: StudioWindow) -> None:
    preview = window.prompt_preview
    QApplication.processEvents()
    assert preview.view.toPlainText() == window.document.compiled.text
    assert preview.highlighted_spans() == expected_spans(window)
    # Every highlight covers one comma that stands for a semicolon.
    text = preview.view.toPlainText().encode("utf-16-le")
    assert all(text[2 * a : 2 * b].decode("utf-16-le") == "," for a, b in preview.highlighted_spans())


async def test_the_preview_edited_in_place_is_always_the_compiled_prompt(qtbot) -> None:
    window = make_window(qtbot)
    six_shots(window)
    assert_preview_exact(window)

    QTest.keyClicks(focused(), " and a lantern")  # typing
    assert window.document.storyboard.shots[2].text.endswith("cranes and a lantern")
    assert_preview_exact(window)

    QTest.keyClicks(focused(), "; swinging")  # a semicolon: sanitised, highlighted
    assert "lantern, swinging;" in window.document.compiled.text
    assert_preview_exact(window)

    for _ in range(12):  # deleting back across the highlighted comma
        QTest.keyClick(focused(), Qt.Key.Key_Backspace)
        assert_preview_exact(window)

    QTest.keyClick(focused(), Qt.Key.Key_Home, CTRL)  # typing at the start of the shot
    QTest.keyClicks(focused(), "Dusk; ")
    assert_preview_exact(window)

    QApplication.clipboard().setText("a ferry horn\n\nthe 🚢 leaves; slowly\n")  # multi-line paste
    QTest.keyClick(focused(), Qt.Key.Key_V, CTRL)
    assert "a ferry horn the 🚢 leaves, slowly" in window.document.compiled.text
    assert_preview_exact(window)

    QApplication.clipboard().setText(" ünder ☂;")  # non-ASCII (QTest types ASCII only)
    QTest.keyClick(focused(), Qt.Key.Key_V, CTRL)
    assert_preview_exact(window)
    QTest.keyClicks(focused(), " x;y")  # typing after an emoji and a highlight: UTF-16 offsets
    assert_preview_exact(window)
    for _ in range(4):
        QTest.keyClick(focused(), Qt.Key.Key_Left)
    QTest.keyClicks(focused(), "z")
    assert_preview_exact(window)

    for _ in range(3):
        QTest.keyClick(focused(), Qt.Key.Key_Z, CTRL)  # undo (the whole typing run is one step)
        assert_preview_exact(window)
    for _ in range(3):
        QTest.keyClick(focused(), Qt.Key.Key_Z, CTRL_SHIFT)  # redo
        assert_preview_exact(window)

    # The same prompt and highlights as a preview built from scratch.
    edited = (window.prompt_preview.view.toPlainText(), window.prompt_preview.highlighted_spans())
    window.prompt_preview.refresh(force=True)
    assert (window.prompt_preview.view.toPlainText(), window.prompt_preview.highlighted_spans()) == edited


async def test_a_one_shot_prompt_with_line_breaks_and_carriage_returns(qtbot) -> None:
    window = make_window(qtbot)
    load(window, storyboard(("first line\r\nsecond line", 5)))
    edit = window.shot_editor.text_edit
    edit.setFocus(Qt.FocusReason.OtherFocusReason)
    edit.moveCursor(edit.textCursor().MoveOperation.End)
    QTest.keyClick(focused(), Qt.Key.Key_Return)
    QTest.keyClicks(focused(), "third")
    assert window.prompt_preview.view.toPlainText() == window.document.compiled.text.replace("\r\n", "\n")
    QTest.keyClick(focused(), Qt.Key.Key_Backspace)
    assert window.prompt_preview.view.toPlainText() == window.document.compiled.text


@pytest.mark.parametrize(
    ("old", "new", "span"),
    [
        ("abc", "abc", (3, 3, 3)),
        ("abc", "abXc", (2, 2, 3)),
        ("abc", "ac", (1, 2, 1)),
        ("aaa", "aaaa", (3, 3, 4)),
        ("", "xyz", (0, 0, 3)),
        ("xyz", "", (0, 3, 0)),
        ("shot 1, 2, a;", "shot 1, 2, ab;", (12, 12, 13)),
    ],
)
def test_changed_span(old: str, new: str, span: tuple[int, int, int]) -> None:
    assert changed_span(old, new) == span
    start, old_end, new_end = span
    assert old[:start] + new[start:new_end] + old[old_end:] == new


async def test_typing_updates_the_shot_cell_and_count_in_a_fixed_width_column(qtbot) -> None:
    window = make_window(qtbot)
    six_shots(window)
    view, model = window.shot_list.view, window.shot_list.model
    width = view.columnWidth(COL_CHARS)
    QTest.keyClicks(focused(), " and more")
    chars = len(window.document.storyboard.shots[2].text)
    assert model.index(2, COL_CHARS).data() == f"{chars}/{KLING_3_TURBO.max_shot_chars}"
    assert window.shot_editor.counter.text() == f"{chars}/{KLING_3_TURBO.max_shot_chars}"
    assert view.columnWidth(COL_CHARS) == width
    assert view.fontMetrics().horizontalAdvance(f"88888/{KLING_3_TURBO.max_prompt_chars}") + 12 <= width
    # A new first line shows in the Shot column.
    QTest.keyClick(focused(), Qt.Key.Key_Home, CTRL)
    QTest.keyClicks(focused(), "Night")
    QTest.keyClick(focused(), Qt.Key.Key_Return)
    assert model.index(2, COL_TEXT).data() == "Night"


def test_a_counter_grows_for_a_count_longer_than_planned(qtbot) -> None:
    label = CounterLabel("88/512")
    qtbot.addWidget(label)
    before = label.width()
    label.setText("123456/512")
    assert label.width() > before
    assert label.fontMetrics().horizontalAdvance("123456/512") <= label.contentsRect().width()


def test_set_style_name_follows_a_theme_change(qtbot) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    label = QLabel("12/512")
    qtbot.addWidget(label)
    try:
        apply_theme(app, "dark")
        set_style_name(label, "counterWarn")
        set_style_name(label, "counterWarn")  # unchanged: a no-op, the colour holds
        assert label.palette().color(QPalette.ColorRole.WindowText) == QColor(theme.colors().warning)
        apply_theme(app, "light")
        set_style_name(label, "counterWarn")
        assert label.palette().color(QPalette.ColorRole.WindowText) == QColor(theme.colors().warning)
        set_style_name(label, "counterOk")
        assert label.objectName() == "counterOk"
        assert label.palette().color(QPalette.ColorRole.WindowText) == QColor(theme.colors().success)
    finally:
        apply_theme(app, "dark")


@pytest.mark.parametrize("theme_name", ["dark", "light"])
async def test_self_painted_backgrounds_match_the_style_sheet(qtbot, theme_name: str) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, theme_name)
    try:
        window = make_window(qtbot)
        six_shots(window)
        for edit in (window.shot_editor.text_edit, window.prompt_preview.view):
            image = edit.grab().toImage()
            viewport = edit.viewport().geometry()
            # Inside the frame's padding (drawn by the style sheet) and inside the viewport
            # (painted by the view itself), away from text: the same colour.
            padding = image.pixelColor(QPoint(viewport.left() - 2, viewport.bottom() - 1))
            inside = image.pixelColor(QPoint(viewport.right() - 1, viewport.bottom() - 1))
            assert padding == inside == QColor(theme.colors().base)
        for counter in (window.shot_editor.counter, window.prompt_preview.counter):
            card = counter.parentWidget()
            assert card is not None
            image = card.grab().toImage()
            box = counter.geometry()  # right-aligned text: its left end is background
            beside = image.pixelColor(QPoint(box.left() - 3, box.center().y()))  # the card, painted by the style sheet
            under = image.pixelColor(QPoint(box.left() + 1, box.center().y()))  # painted by the counter
            assert beside == under == QColor(theme.colors().card)
        summary = window.prompt_preview.summary  # left-aligned: its right end is background
        image = summary.parentWidget().grab().toImage()
        box = summary.geometry()
        beside = image.pixelColor(QPoint(box.right() + 3, box.center().y()))
        under = image.pixelColor(QPoint(box.right() - 1, box.center().y()))
        assert beside == under == QColor(theme.colors().card)
    finally:
        apply_theme(app, "dark")


async def test_typing_over_a_shot_limit_keeps_the_diagnostics_list_exact(qtbot) -> None:
    window = make_window(qtbot)
    limit = KLING_3_TURBO.max_shot_chars
    shots = [("x" * (limit - 2), 2)] + [(f"Shot {n}; a quiet street", 2) for n in range(2, 7)]
    load(window, storyboard(*shots))
    edit = window.shot_editor.text_edit
    edit.setFocus(Qt.FocusReason.OtherFocusReason)
    edit.moveCursor(edit.textCursor().MoveOperation.End)
    view, model = window.prompt_preview.list, window.prompt_preview.diagnostics
    for n in range(6):  # 511, 512 (at the limit), then 513… (an error whose figure changes per key)
        QTest.keyClick(focused(), Qt.Key.Key_Y)
        QApplication.processEvents()
        compiled = window.document.compiled
        shown = [str(model.index(r).data()) for r in range(model.rowCount())]
        assert shown == [d.message for d in (*compiled.errors, *compiled.warnings)]
        if limit - 2 + n + 1 > limit:
            assert any(f"Shot 1 has {limit - 2 + n + 1} characters" in m for m in shown)
        for r in range(model.rowCount()):  # every row laid out at its wrapped height
            index = model.index(r)
            assert view.visualRect(index).height() == view.sizeHintForIndex(index).height()


async def test_the_chars_column_grows_for_a_six_digit_count(qtbot) -> None:
    window = make_window(qtbot)
    view, model = window.shot_list.view, window.shot_list.model
    floor = view.columnWidth(COL_CHARS)
    load(window, storyboard(("word " * 20_000 + "end", 5)))
    QApplication.processEvents()
    text = str(model.index(0, COL_CHARS).data())
    assert text == f"100003/{KLING_3_TURBO.max_prompt_chars}"
    assert view.columnWidth(COL_CHARS) > floor
    assert view.fontMetrics().horizontalAdvance(text) + 12 <= view.columnWidth(COL_CHARS)
    assert (
        window.shot_editor.counter.fontMetrics().horizontalAdvance(window.shot_editor.counter.text())
        <= window.shot_editor.counter.contentsRect().width()
    )


async def test_self_painted_backgrounds_follow_a_live_theme_switch(qtbot) -> None:
    window = make_window(qtbot)
    six_shots(window)
    try:
        for name in ("light", "dark"):
            window.apply_theme(name)
            QApplication.processEvents()
            edit = window.shot_editor.text_edit
            image = edit.grab().toImage()
            viewport = edit.viewport().geometry()
            inside = image.pixelColor(QPoint(viewport.right() - 1, viewport.bottom() - 1))
            assert inside == QColor(theme.colors().base)
            counter = window.prompt_preview.counter
            image = counter.grab().toImage()
            assert image.pixelColor(QPoint(1, counter.height() // 2)) == QColor(theme.colors().card)
            assert counter.palette().color(QPalette.ColorRole.WindowText) == QColor(theme.colors().success)
    finally:
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        apply_theme(app, "dark")


@pytest.mark.parametrize("theme_name", ["dark", "light"])
async def test_the_shot_table_and_diagnostics_paint_their_own_background_with_the_same_pixels(
    qtbot, theme_name: str
) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, theme_name)
    try:
        window = make_window(qtbot)
        view = window.shot_list.view
        card = view.parentWidget()
        assert card is not None

        def grab(paints: bool) -> QImage:
            view.set_paints_background(paints)
            for _ in range(4):  # the layout settles (the table's height follows its rows)
                QApplication.processEvents()
                QApplication.sendPostedEvents()
            return card.grab().toImage()

        for shots in (6, 2):  # rows to the bottom corners; empty rows above them
            load(window, storyboard(*[(f"shot {n}", 2) for n in range(shots)]))
            for focus in (window.shot_editor.text_edit, view):  # the border's colour follows focus
                focus.setFocus(Qt.FocusReason.OtherFocusReason)
                assert grab(True) == grab(False)
        view.set_paints_background(True)

        # The same for the list of errors and warnings (rows to its top and bottom corners).
        view = window.prompt_preview.list
        card = view.parentWidget()
        assert card is not None
        load(window, storyboard(*[(f"shot {n}; with a semicolon", 2) for n in range(6)]))
        window.shot_editor.text_edit.setFocus(Qt.FocusReason.OtherFocusReason)
        assert view.isVisible() and window.prompt_preview.diagnostics.rowCount() == 6
        assert grab(True) == grab(False)
        view.setFocus(Qt.FocusReason.OtherFocusReason)
        assert grab(True) == grab(False)
        view.set_paints_background(True)
    finally:
        apply_theme(app, "dark")
