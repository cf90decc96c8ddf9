"""Generate ×2 of a two-segment chained sequence from the studio, on the real local server."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from kling_studio.domain.jobs import JobState
from kling_studio.localapi.runner import LocalServer
from kling_studio.localapi.server import LocalServerConfig
from kling_studio.services.job_engine import JobEngine
from kling_studio.services.sequence_runner import job_tag
from kling_studio.services.settings import AppSettings

from .studio_helpers import focused, make_window, wait_until
from .test_queue_end_to_end import QUICK_POLL


async def test_generate_whole_sequence_times_two_chains_segment_2_on_segment_1s_take(qtbot, tmp_path: Path) -> None:
    with LocalServer(LocalServerConfig(task_seconds=0.2)) as server:
        engine = JobEngine(
            AppSettings(library_dir=str(tmp_path / "library")), base_url=server.base_url, poll_policy=QUICK_POLL
        )
        await engine.start()
        try:
            window = make_window(qtbot, engine=engine)  # type: ignore[arg-type]
            window.shot_editor.text_edit.setFocus()
            QTest.keyClicks(focused(), "Fog lifts off the harbour")
            window.shot_editor.seconds.setValue(3)
            window.studio_actions.add_segment.trigger()
            QTest.keyClicks(focused(), "A boat leaves the quay")
            window.shot_editor.seconds.setValue(3)
            assert window.files.save_to(str(tmp_path / "film.kling.json"))
            spin = window.sequence_ui.takes
            spin.setFocus()
            QTest.keyClick(spin, Qt.Key.Key_Up)  # ×2
            assert spin.value() == 2
            assert "× 2 takes" in window.sequence_ui.strip.totals.text()
            window.shot_editor.text_edit.setFocus()
            whole = (
                Qt.KeyboardModifier.ControlModifier
                | Qt.KeyboardModifier.AltModifier
                | Qt.KeyboardModifier.ShiftModifier
            )
            QTest.keyClick(focused(), Qt.Key.Key_G, whole)  # Generate → Generate Whole Sequence
            await wait_until(lambda: window.statusBar().currentMessage().startswith("Generating 2 segments × 2 takes"))

            def done() -> list:  # type: ignore[type-arg]
                return [j for j in engine.jobs() if j.state == JobState.DONE]

            await wait_until(lambda: len(done()) == 4, 60)
            tags = sorted((job_tag(j)["segment"], job_tag(j)["take"]) for j in engine.jobs())  # type: ignore[index]
            assert tags == [(1, 1), (1, 2), (2, 1), (2, 2)]
            chained = [j for j in engine.jobs() if job_tag(j)["segment"] == 2]  # type: ignore[index]
            assert all(j.mode == "image-to-video" for j in chained)
            assert all("frames" in (j.storyboard["first_frame"] or {}).get("path", "") for j in chained)
            strip = window.sequence_ui.strip
            strip.refresh()
            assert [c.state.text() for c in strip.cards] == ["2 takes", "2 takes"]
            from kling_studio.ui.queue_table_model import segment_prefix

            assert sorted(segment_prefix(j) for j in engine.jobs())[0] == "Segment 1 · take 1 · "
        finally:
            window.sequence_ui.shutdown()  # as closing the window does, before the engine stops
            await engine.stop()
