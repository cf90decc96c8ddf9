"""Puts the queue, takes, preview and notifier (from the queue/preview work) into the window.

Each import is optional so the editor still starts in a build without them.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject

from kling_studio.services.engine_api import JobEngineAPI

if TYPE_CHECKING:
    from kling_studio.ui.main_window import StudioWindow

log = logging.getLogger("kling_studio.ui")


class JobPanels(QObject):
    """Owns the optional panels so the window can shut them down in one place."""

    def __init__(self, window: StudioWindow, engine: JobEngineAPI | None) -> None:
        super().__init__(window)
        self.window = window
        self.preview: Any = None
        self.queue: Any = None
        self.takes: Any = None
        self.takes_dock: Any = None
        self.notifier: Any = None
        self._install_preview()
        if engine is not None:
            self._install_queue(engine)
            self._install_takes(engine)
            self._install_notifier(engine)
        window.document.path_changed.connect(self._project_changed)

    def _install_preview(self) -> None:
        try:
            from kling_studio.ui.preview_panel import PreviewPanel
        except ImportError:
            return
        self.preview = PreviewPanel()
        self.window.install_preview_panel(self.preview)
        self.preview.load_failed.connect(lambda text: self.window.show_message(text))

    def _install_queue(self, engine: JobEngineAPI) -> None:
        try:
            from kling_studio.ui.queue_panel import QueuePanel
        except ImportError:
            return
        w = self.window
        self.queue = QueuePanel(engine, project_path=w.document.path, autoplay=w.settings.autoplay)
        w.install_queue_panel(self.queue)
        if self.preview is not None:
            self.queue.attach_preview(self.preview)
            self.queue.play_requested.connect(lambda _id: self._raise(w.preview_dock))
        self.queue.load_into_editor_requested.connect(w.files.open_snapshot)
        self.queue.message.connect(lambda text: w.show_message(text))
        self.queue.status_text_changed.connect(w.set_queue_status)
        w.set_queue_status(self.queue.status_text())  # the panel counted before this connection existed
        self.queue.extra_context_actions = [w.studio_actions.export_take]

    def _install_takes(self, engine: JobEngineAPI) -> None:
        try:
            from kling_studio.ui.takes_panel import TakesPanel
        except ImportError:
            return
        w = self.window
        self.takes = TakesPanel(engine, w.document.path)
        dock = w.add_panel_dock("Takes", "takesDock", self.takes)
        self.takes_dock = dock
        w.tabifyDockWidget(w.queue_dock, dock)
        w.queue_dock.raise_()
        self.takes.load_into_editor_requested.connect(w.files.open_snapshot)
        self.takes.message.connect(lambda text: w.show_message(text))
        self.takes.extra_context_actions = [w.studio_actions.export_take]
        if self.preview is not None:

            def play(job_id: str) -> None:
                job = engine.get(job_id)
                if job is not None and job.video_path:
                    self.preview.load(job.video_path, job.shot_starts, autoplay=True)
                    self._raise(w.preview_dock)

            self.takes.play_requested.connect(play)

    def _install_notifier(self, engine: JobEngineAPI) -> None:
        try:
            from kling_studio.ui.notifications import JobNotifier
        except ImportError:
            return
        w = self.window
        self.notifier = JobNotifier(engine, w, enabled=w.settings.notifications)
        self.notifier.status_message.connect(w.statusBar().showMessage)

    def selected_job(self) -> Any:
        """The job the user points at: in the list that has focus, else the queue's, else the takes'."""
        panels = [p for p in (self.queue, self.takes) if p is not None]
        focused = [p for p in panels if p.view.hasFocus()]
        for panel in focused + panels:
            job = panel.current_job() if panel is self.queue else panel.current_take()
            if job is not None:
                return job
        return None

    def _raise(self, dock: Any) -> None:
        dock.show()
        dock.raise_()

    def _project_changed(self, path: str) -> None:
        for panel in (self.queue, self.takes):
            if panel is not None:
                panel.set_project_path(path or None)

    def settings_changed(self) -> None:
        s = self.window.settings
        if self.notifier is not None:
            self.notifier.set_enabled(s.notifications)
        if self.queue is not None:
            self.queue.set_autoplay(s.autoplay)

    def dispose(self) -> None:
        """Shut down and take the panels out of the window (before panels for another engine go in)."""
        self.shutdown()
        w = self.window
        w.document.path_changed.disconnect(self._project_changed)
        if self.takes_dock is not None:
            w.view_menu.removeAction(self.takes_dock.toggleViewAction())
            w.removeDockWidget(self.takes_dock)
            self.takes_dock.deleteLater()
        for panel in (self.queue, self.preview, self.notifier):
            if panel is not None:
                panel.deleteLater()
        self.deleteLater()

    def shutdown(self) -> None:
        for panel in (self.queue, self.takes):
            if panel is not None:
                panel.shutdown()
        if self.notifier is not None:
            self.notifier.close()
        if self.preview is not None:
            self.preview.unload()
