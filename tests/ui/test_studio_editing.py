"""Editing in the studio window: typing, limits, reordering, the timeline, undo and redo."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt

from kling_studio.domain.limits import KLING_3_TURBO
from kling_studio.ui.edit_commands import MoveShotCommand
from kling_studio.ui.shot_table_model import COL_TEXT

from .studio_helpers import drag_and_drop, load, make_window, storyboard, wait_until


async def test_typing_updates_preview_and_counters(qtbot) -> None:
    window = make_window(qtbot)
    load(window, storyboard(("a cat", 3), ("a dog", 2)))
    window.document.select(1)
    editor = window.shot_editor.text_edit
    editor.setFocus()
    editor.moveCursor(editor.textCursor().MoveOperation.End)
    qtbot.keyClicks(editor, " runs; fast")
    compiled_text = "shot 1, 3, a cat; shot 2, 2, a dog runs, fast;"
    assert window.prompt_preview.view.toPlainText() == compiled_text
    assert window.prompt_preview.counter.text() == f"{len(compiled_text)}/{KLING_3_TURBO.max_prompt_chars}"
    assert window.prompt_preview.counter.objectName() == "counterOk"
    assert window.shot_editor.counter.text() == f"{len('a dog runs, fast')}/{KLING_3_TURBO.max_shot_chars}"
    # The semicolon became a comma, is highlighted, and a warning names shot 2.
    start = compiled_text.index("runs,") + len("runs")
    assert window.prompt_preview.highlighted_spans() == [(start, start + 1)]
    assert any(d.code == "text_sanitized" and d.shot == 2 for d in window.document.compiled.warnings)
    assert window.shot_list.model.index(1, COL_TEXT).data() == "a dog runs; fast"
    # Typing merged into one undo step.
    assert window.document.undo_stack.count() == 1
    assert window.isWindowModified()


async def test_counter_turns_amber_then_red(qtbot) -> None:
    window = make_window(qtbot)
    long_shots = [("x" * 500, 2)] * 6
    load(window, storyboard(*long_shots[:5]))
    assert window.document.compiled.length > KLING_3_TURBO.recommended_prompt_chars
    assert window.prompt_preview.counter.objectName() == "counterWarn"
    load(window, storyboard(*long_shots))
    assert window.document.compiled.length > KLING_3_TURBO.max_prompt_chars
    assert window.prompt_preview.counter.objectName() == "counterError"


async def test_over_limit_storyboard_blocks_submit_and_names_the_rule(qtbot) -> None:
    window = make_window(qtbot)
    load(window, storyboard(*[("y" * 510, 2)] * 6))
    action = window.studio_actions.submit
    assert not action.isEnabled()
    assert not window.submit_button.isEnabled()
    assert "prompt_too_long" not in action.toolTip()  # the rule in words, never its code
    assert f"the limit is {KLING_3_TURBO.max_prompt_chars}" in action.toolTip()
    assert window.submit_button.toolTip() == action.toolTip()
    # Never truncated: the preview shows every character.
    assert len(window.prompt_preview.view.toPlainText()) == window.document.compiled.length
    # Fixing it re-enables submit.
    load(window, storyboard(("short", 3), ("also short", 2)))
    assert action.isEnabled()


async def test_submit_hands_the_storyboard_to_the_engine_and_shows_the_queue(qtbot) -> None:
    window = make_window(qtbot)
    engine = window.engine
    load(window, storyboard(("a lighthouse at dusk", 5)))
    window.queue_dock.hide()
    window.studio_actions.submit.trigger()
    await wait_until(lambda: bool(engine.submitted) and window.queue_dock.isVisible())
    assert engine.submitted[0] == window.document.storyboard


async def test_shot_limit_says_why(qtbot) -> None:
    window = make_window(qtbot)
    load(window, storyboard(*[("s", 2)] * KLING_3_TURBO.max_shots))
    assert not window.studio_actions.add_shot.isEnabled()
    assert str(KLING_3_TURBO.max_shots) in window.studio_actions.add_shot.toolTip()
    window.shot_list.add_shot()
    assert len(window.document.storyboard.shots) == KLING_3_TURBO.max_shots
    assert "at most 6 shots" in window.statusBar().currentMessage()


async def test_reorder_by_drag_changes_the_compiled_order(qtbot) -> None:
    window = make_window(qtbot)
    load(window, storyboard(("first", 2), ("second", 2), ("third", 2)))
    view = window.shot_list.view
    model = window.shot_list.model
    mime: QMimeData = model.mimeData([model.index(0, COL_TEXT)])
    target = view.visualRect(model.index(2, COL_TEXT))
    pos = QPointF(target.center().x(), target.bottom() - 2)  # lower half of the last row: after it
    drag_and_drop(view.viewport(), mime, pos, Qt.DropAction.MoveAction)
    assert window.document.compiled.text == "shot 1, 2, second; shot 2, 2, third; shot 3, 2, first;"
    assert window.document.selected == 2
    # The moved shot is selected in the table too.
    assert view.selectionModel().currentIndex().row() == 2


async def test_move_shortcuts_and_actions(qtbot) -> None:
    window = make_window(qtbot)
    load(window, storyboard(("a", 2), ("b", 2), ("c", 2)))
    window.shot_list.view.setFocus()
    window.document.select(0)
    qtbot.keyClick(window.shot_list.view, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert [s.text for s in window.document.storyboard.shots] == ["b", "a", "c"]
    window.studio_actions.duplicate_shot.trigger()
    assert [s.text for s in window.document.storyboard.shots] == ["b", "a", "a", "c"]
    qtbot.keyClick(window.shot_list.view, Qt.Key.Key_Delete)
    assert [s.text for s in window.document.storyboard.shots] == ["b", "a", "c"]


async def test_timeline_drag_keeps_the_total(qtbot) -> None:
    window = make_window(qtbot)
    load(window, storyboard(("a", 3), ("b", 4), ("c", 3)))
    timeline = window.timeline
    x = timeline.boundary_x(0)
    y = timeline.height() // 2
    px_per_second = 1 / timeline.seconds_per_px()
    qtbot.mousePress(timeline, Qt.MouseButton.LeftButton, pos=QPoint(round(x), y))
    qtbot.mouseMove(timeline, QPoint(round(x + px_per_second * 2), y))
    qtbot.mouseMove(timeline, QPoint(round(x + px_per_second * 2.2), y))
    qtbot.mouseRelease(timeline, Qt.MouseButton.LeftButton, pos=QPoint(round(x + px_per_second * 2.2), y))
    assert [s.duration for s in window.document.storyboard.shots] == [5, 2, 3]
    assert window.document.storyboard.total_duration == 10
    # Dragging past the neighbour clamps at one second.
    x = timeline.boundary_x(0)
    qtbot.mousePress(timeline, Qt.MouseButton.LeftButton, pos=QPoint(round(x), y))
    qtbot.mouseMove(timeline, QPoint(round(x + px_per_second * 6), y))
    qtbot.mouseRelease(timeline, Qt.MouseButton.LeftButton, pos=QPoint(round(x + px_per_second * 6), y))
    assert [s.duration for s in window.document.storyboard.shots] == [6, 1, 3]
    # One drag is one undo step.
    window.document.undo_stack.undo()
    assert [s.duration for s in window.document.storyboard.shots] == [5, 2, 3]
    # Clicking a segment selects its shot.
    qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=QPoint(round(timeline.x_for(8.5)), y))
    assert window.document.selected == 2


async def test_undo_and_redo_restore_each_edit(qtbot) -> None:
    window = make_window(qtbot)
    load(window, storyboard(("one", 3), ("two", 3)))
    doc = window.document
    states = [doc.storyboard]
    window.document.select(0)
    window.shot_editor.text_edit.setPlainText("one edited")
    states.append(doc.storyboard)
    window.shot_editor.seconds.setValue(5)
    states.append(doc.storyboard)
    window.shot_list.add_shot()
    states.append(doc.storyboard)
    doc.select(0)
    window.shot_list.duplicate_shot()
    states.append(doc.storyboard)
    doc.select(3)
    window.shot_list.move_shot(-1)
    states.append(doc.storyboard)
    window.shot_list.delete_shot()
    states.append(doc.storyboard)
    window.generation_panel.resolution.setCurrentIndex(window.generation_panel.resolution.findData("1080p"))
    states.append(doc.storyboard)
    window.generation_panel.watermark.setCurrentIndex(window.generation_panel.watermark.findData(True))
    states.append(doc.storyboard)
    doc.push(MoveShotCommand(doc, 0, 2))
    states.append(doc.storyboard)
    window.title_edit.setFocus()
    qtbot.keyClicks(window.title_edit, " renamed")
    states.append(doc.storyboard)
    assert len(set(map(repr, states))) == len(states), "every step changed something"
    for expected in reversed(states[:-1]):
        window.studio_actions.undo.trigger()
        assert doc.storyboard == expected
    assert not window.isWindowModified()
    for expected in states[1:]:
        window.studio_actions.redo.trigger()
        assert doc.storyboard == expected
    # The editor and the settings show the restored values.
    assert window.title_edit.text() == "Test renamed"
    assert window.generation_panel.resolution.currentData() == "1080p"


async def test_ctrl_z_in_the_shot_editor_uses_the_document_history(qtbot) -> None:
    window = make_window(qtbot)
    load(window, storyboard(("start", 3)))
    editor = window.shot_editor.text_edit
    editor.setFocus()
    editor.moveCursor(editor.textCursor().MoveOperation.End)
    qtbot.keyClicks(editor, " more")
    assert window.document.storyboard.shots[0].text == "start more"
    qtbot.keyClick(editor, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.document.storyboard.shots[0].text == "start"
    assert editor.toPlainText() == "start"
    qtbot.keyClick(editor, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert editor.toPlainText() == "start more"


async def test_delete_key_in_the_editor_edits_text_not_shots(qtbot) -> None:
    window = make_window(qtbot)
    load(window, storyboard(("abc", 3), ("def", 3)))
    editor = window.shot_editor.text_edit
    editor.setFocus()
    editor.moveCursor(editor.textCursor().MoveOperation.Start)
    qtbot.keyClick(editor, Qt.Key.Key_Delete)
    assert [s.text for s in window.document.storyboard.shots] == ["bc", "def"]
