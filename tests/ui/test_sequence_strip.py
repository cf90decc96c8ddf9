"""The segment strip driven with real events: add, duplicate, delete, reorder, undo, select, save/open."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from kling_studio.services.project_io import save_project

from .studio_helpers import focused, make_window, storyboard

CTRL_ALT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier


def key(k: Qt.Key, mods: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    QTest.keyClick(focused(), k, mods)
    QApplication.processEvents()


def type_text(text: str) -> None:
    QTest.keyClicks(focused(), text)
    QApplication.processEvents()


def titles(window) -> list[str]:  # type: ignore[no-untyped-def]
    return [s.title for s in window.files.sequence.project.segments]


def click(widget) -> None:  # type: ignore[no-untyped-def]
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton)
    QApplication.processEvents()


async def test_one_segment_shows_one_card_and_add_segment_only(qtbot) -> None:
    window = make_window(qtbot)
    strip = window.sequence_ui.strip
    assert len(strip.cards) == 1
    assert strip.add_button.isVisible() and strip.add_button.text() == "Add segment"
    assert not strip.delete_button.isVisible() and not strip.totals.isVisible()
    assert not window.sequence_ui.continue_row.isVisible()


async def test_add_duplicate_delete_reorder_and_undo_with_keys_and_clicks(qtbot) -> None:
    window = make_window(qtbot)
    seq = window.files.sequence
    window.shot_editor.text_edit.setFocus()
    type_text("Harbour at dawn")
    window.title_edit.setFocus()
    window.title_edit.selectAll()
    type_text("Opening")
    key(Qt.Key.Key_N, CTRL_ALT)  # Add Segment: the caret lands in its first shot
    assert titles(window) == ["Opening", "Segment 2"]
    assert seq.current == 1 and window.document.storyboard.title == "Segment 2"
    type_text("A gull lands")
    assert seq.project.segments[1].shots[0].text == "A gull lands"
    assert seq.project.segments[1].from_previous  # a new segment continues the film
    strip = window.sequence_ui.strip
    assert len(strip.cards) == 2 and strip.totals.isVisible() and "Film 10 s" in strip.totals.text()
    click(strip.duplicate_button)
    assert titles(window) == ["Opening", "Segment 2", "Segment 2 (copy)"]
    assert seq.current == 2
    strip.cards[0].setFocus()
    click(strip.cards[0])
    assert seq.current == 0 and window.document.storyboard.shots[0].text == "Harbour at dawn"
    key(Qt.Key.Key_Right, CTRL_ALT)  # move the first segment later
    assert titles(window) == ["Segment 2", "Opening", "Segment 2 (copy)"]
    assert not seq.project.segments[0].from_previous  # the first segment cannot be chained
    key(Qt.Key.Key_Backspace, CTRL_ALT)  # delete "Opening"
    assert titles(window) == ["Segment 2", "Segment 2 (copy)"]
    stack = window.document.undo_stack
    window.shot_editor.text_edit.setFocus()
    key(Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert titles(window) == ["Segment 2", "Opening", "Segment 2 (copy)"]
    key(Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert titles(window) == ["Opening", "Segment 2", "Segment 2 (copy)"]
    while stack.canUndo():
        stack.undo()
    assert titles(window) == ["Untitled"] and seq.project.segments[0].shots[0].text == ""
    assert len(strip.cards) == 1


async def test_undo_of_a_shot_edit_returns_to_its_segment(qtbot) -> None:
    window = make_window(qtbot)
    seq = window.files.sequence
    key_add = window.studio_actions.add_segment
    key_add.trigger()
    window.shot_editor.text_edit.setFocus()
    type_text("second")
    seq.show_segment(0)
    assert window.document.storyboard.shots[0].text == ""
    window.shot_editor.text_edit.setFocus()
    key(Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undoes the typing in segment 2
    assert seq.current == 1
    assert seq.project.segments[1].shots[0].text == ""
    assert seq.project.segments[0].shots[0].text == ""


async def test_selecting_a_card_edits_that_segment(qtbot) -> None:
    window = make_window(qtbot)
    seq = window.files.sequence
    window.studio_actions.add_segment.trigger()
    type_text("second segment's shot")
    strip = window.sequence_ui.strip
    click(strip.cards[0])
    assert window.document.storyboard.shots[0].text == ""
    window.shot_editor.text_edit.setFocus()
    type_text("first")
    click(strip.cards[1])
    assert window.shot_editor.text_edit.toPlainText() == "second segment's shot"
    assert [s.shots[0].text for s in seq.project.segments] == ["first", "second segment's shot"]
    strip.cards[1].setFocus()
    key(Qt.Key.Key_Left)  # arrows walk the cards
    assert seq.current == 0 and window.shot_editor.text_edit.toPlainText() == "first"


async def test_save_and_open_a_schema_2_project_through_the_ui(qtbot, tmp_path: Path) -> None:
    window = make_window(qtbot)
    window.shot_editor.text_edit.setFocus()
    type_text("Wide shot")
    window.studio_actions.add_segment.trigger()
    type_text("Close-up")
    path = tmp_path / "film.kling.json"
    window.files.choose_save_path = lambda: str(path)  # type: ignore[method-assign]
    window.shot_editor.text_edit.setFocus()
    key(Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["schema"] == 2
    assert [s["first_frame"] for s in data["segments"]] == [None, {"from": "previous"}]
    assert [s["shots"][0]["text"] for s in data["segments"]] == ["Wide shot", "Close-up"]
    other = make_window(qtbot)
    assert other.files.open(str(path))
    assert len(other.sequence_ui.strip.cards) == 2
    assert other.files.sequence.project == window.files.sequence.project
    assert other.document.storyboard.shots[0].text == "Wide shot"
    assert other.sequence_ui.strip.totals.isVisible()


async def test_a_schema_1_file_opened_and_saved_stays_byte_for_byte(qtbot, tmp_path: Path) -> None:
    path = tmp_path / "one.kling.json"
    save_project(str(path), storyboard(("a cat", 3), ("a dog", 2), title="One"))
    before = path.read_bytes()
    window = make_window(qtbot)
    assert window.files.open(str(path))
    assert len(window.sequence_ui.strip.cards) == 1
    assert window.files.save_to(str(path))
    assert path.read_bytes() == before
