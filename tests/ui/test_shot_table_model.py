"""The shot list model: Qt's model tester, raw values, per-row updates and drag-and-drop moves."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt

from kling_studio.domain.storyboard import Shot, Storyboard
from kling_studio.ui.edit_commands import AddShotCommand, DeleteShotCommand, EditShotTextCommand
from kling_studio.ui.shot_table_model import (
    COL_CHARS,
    COL_NUMBER,
    COL_SECONDS,
    COL_TEXT,
    RAW_VALUE_ROLE,
    ShotTableModel,
)
from kling_studio.ui.storyboard_document import StoryboardDocument


def _document() -> StoryboardDocument:
    sb = Storyboard(shots=(Shot("a girl walks\nin the rain", 3), Shot("close-up; thunder", 4), Shot("wide", 3)))
    return StoryboardDocument(sb)


def test_model_passes_qtmodeltester_through_edits(qtmodeltester) -> None:
    doc = _document()
    model = ShotTableModel(doc)
    qtmodeltester.check(model, force_py=True)
    doc.push(AddShotCommand(doc, 1, Shot("new", 2)))
    doc.push(DeleteShotCommand(doc, 0))
    doc.push(EditShotTextCommand(doc, 0, "changed"))
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    qtmodeltester.check(model, force_py=True)


def test_raw_values_and_display(qtbot) -> None:
    doc = _document()
    model = ShotTableModel(doc)
    assert model.rowCount() == 3 and model.columnCount() == 4
    assert model.index(0, COL_NUMBER).data(RAW_VALUE_ROLE) == 1
    assert model.index(0, COL_TEXT).data() == "a girl walks"  # the first line only
    assert model.index(1, COL_SECONDS).data(RAW_VALUE_ROLE) == 4
    # Characters counted as compiled: line breaks folded, semicolons become commas.
    assert model.index(0, COL_CHARS).data(RAW_VALUE_ROLE) == len("a girl walks in the rain")
    assert model.index(1, COL_CHARS).data() == "17/512"


def test_rows_are_inserted_and_removed_not_reset(qtbot) -> None:
    doc = _document()
    model = ShotTableModel(doc)
    events: list[str] = []
    model.rowsInserted.connect(lambda _p, first, last: events.append(f"insert {first}-{last}"))
    model.rowsRemoved.connect(lambda _p, first, last: events.append(f"remove {first}-{last}"))
    model.modelReset.connect(lambda: events.append("reset"))
    doc.push(AddShotCommand(doc, 1, Shot("inserted", 2)))
    doc.push(DeleteShotCommand(doc, 3))
    assert events == ["insert 3-3", "remove 3-3"]  # rows are positions; content moves
    assert [model.index(r, COL_TEXT).data(RAW_VALUE_ROLE) for r in range(3)] == [
        "a girl walks\nin the rain",
        "inserted",
        "close-up; thunder",
    ]


def test_drop_mime_data_moves_a_shot(qtbot) -> None:
    doc = _document()
    model = ShotTableModel(doc)
    data = model.mimeData([model.index(0, COL_TEXT)])
    assert model.dropMimeData(data, Qt.DropAction.MoveAction, 3, 0, QModelIndex())
    assert [s.text for s in doc.storyboard.shots] == ["close-up; thunder", "wide", "a girl walks\nin the rain"]
    doc.undo_stack.undo()
    assert doc.storyboard.shots[0].text == "a girl walks\nin the rain"
