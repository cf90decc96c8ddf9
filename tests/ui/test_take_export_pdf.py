"""File → Export Take for Editor writes the storyboard PDF too, through the same service as the CLI."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from kling_studio.ui.queue_demo import DemoEngine
from kling_studio.ui.take_export import EDITOR_FILTERS

from .studio_helpers import wait_until
from .test_studio_keyboard_and_handoff import done_job, panels_window


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_the_save_dialog_offers_every_format() -> None:
    assert sorted(EDITOR_FILTERS.values()) == [".edl", ".fcpxml", ".otio", ".pdf"]


async def test_a_take_exports_as_a_storyboard_pdf(qtbot, tmp_path: Path) -> None:
    engine = DemoEngine([done_job(tmp_path)])
    window = panels_window(qtbot, engine)
    out = tmp_path / "handoff" / "harbour.pdf"
    window.take_export.choose_path = lambda _job: str(out)  # type: ignore[method-assign]
    window.job_panels.queue.select_job("take-1")  # type: ignore[union-attr]
    window.studio_actions.export_take.trigger()
    await wait_until(lambda: "Exported" in window.statusBar().currentMessage(), 30)
    assert out.read_bytes().startswith(b"%PDF-")
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils is not installed (apt-get install poppler-utils)")
    text = pdf_text(out)
    assert "Shot 1" in text and "Shot 2" in text and "take take-1.mp4" in text
