"""A chained segment is never sent by plain Submit as text-to-video (a take nobody asked for)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from .studio_helpers import FakeEngine, focused, make_window


async def test_submit_on_a_chained_segment_is_blocked_and_points_to_generate_segment(qtbot, tmp_path: Path) -> None:
    engine = FakeEngine()
    window = make_window(qtbot, engine=engine)
    window.shot_editor.text_edit.setFocus()
    QTest.keyClicks(focused(), "Fog over the harbour")
    window.studio_actions.add_segment.trigger()  # segment 2 continues from segment 1's take
    QTest.keyClicks(focused(), "A gull lands on the rail")
    assert window.files.sequence.project.segments[1].from_previous
    assert not window.submit_button.isEnabled()
    assert "Generate Segment" in window.submit_button.toolTip()
    QTest.keyClick(focused(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert engine.submitted == []
    # The first segment is an ordinary storyboard: Submit sends it.
    window.files.sequence.show_segment(0)
    assert window.submit_button.isEnabled()
