"""File → Export Take for Editor: the selected take as .otio, .fcpxml, .edl or a storyboard .pdf.

The same service as ``kling-studio export`` (``services.editor_export.export_job``).

The export probes the MP4 with PyAV, so it runs in an executor; the window only asks for a
file name and reports the result.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog

from kling_studio.domain.job_record import JobRecord
from kling_studio.domain.jobs import JobState
from kling_studio.ui.tasks import TaskSet

if TYPE_CHECKING:
    from kling_studio.ui.main_window import StudioWindow

log = logging.getLogger("kling_studio.ui")

EDITOR_FILTERS = {
    "OpenTimelineIO (*.otio)": ".otio",
    "Final Cut Pro XML (*.fcpxml)": ".fcpxml",
    "CMX 3600 EDL (*.edl)": ".edl",
    "Storyboard PDF with stills from this take (*.pdf)": ".pdf",
}
NO_TAKE = "Select a finished take in the Queue or Takes list first, then export it for your editor."


def _safe_name(title: str) -> str:
    return "".join(c if c.isalnum() or c in " -_." else "-" for c in title).strip() or "take"


class TakeExporter(QObject):
    """Runs the window's Export Take for Editor action on the selected job."""

    def __init__(self, window: StudioWindow) -> None:
        super().__init__(window)
        self.window = window
        self.tasks = TaskSet()
        window.studio_actions.export_take.triggered.connect(self.export_selected)

    # Tests replace this: a modal file dialog cannot run inside a test.
    def choose_path(self, job: JobRecord) -> str:
        folder = Path(job.video_path).parent if job.video_path else Path.home()
        path, chosen = QFileDialog.getSaveFileName(
            self.window,
            "Export take for an editor",
            str(folder / (_safe_name(job.title or job.id) + ".otio")),
            ";;".join(EDITOR_FILTERS),
        )
        if path and Path(path).suffix.lower() not in EDITOR_FILTERS.values():
            path += EDITOR_FILTERS.get(chosen, ".otio")
        return path

    def selected_job(self) -> JobRecord | None:
        panels = self.window.job_panels
        return panels.selected_job() if panels is not None else None

    def export_selected(self) -> None:
        job = self.selected_job()
        if job is None or job.state is not JobState.DONE or not job.video_path:
            self.window.show_message(NO_TAKE)
            return
        path = self.choose_path(job)
        if path:
            self.tasks.spawn(self.export(job, path))

    async def export(self, job: JobRecord, path: str) -> Path | None:
        import asyncio  # late: the window paints before asyncio loads

        from kling_studio.services.editor_export import EditorExportError, export_job
        from kling_studio.services.storyboard_pdf import StoryboardPdfError

        loop = asyncio.get_running_loop()
        self.window.show_message(f"Exporting {Path(path).name}…", 0)
        try:
            out = await loop.run_in_executor(None, export_job, job, path)
        except (EditorExportError, StoryboardPdfError, OSError) as exc:
            self.window.show_message(f"Cannot export the take: {exc}", 0)
            return None
        self.window.show_message(f"Exported {out.name} — open it in your editor; the shots are markers.")
        return out

    def shutdown(self) -> None:
        self.tasks.cancel_all()
