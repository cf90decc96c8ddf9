"""File handling for the window: new, open, open recent, save, save as, autosave and recovery."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QFileDialog, QMessageBox

from kling_studio.domain.project_file import PROJECT_SUFFIX, ProjectFileError, storyboard_from_snapshot
from kling_studio.services.project_io import ProjectIOError, load_project, save_project
from kling_studio.ui.recovery import RecoveryStore
from kling_studio.ui.storyboard_document import new_storyboard

if TYPE_CHECKING:
    from kling_studio.ui.main_window import StudioWindow

log = logging.getLogger("kling_studio.ui")

AUTOSAVE_MS = 5000
FILE_FILTER = f"Kling Studio projects (*{PROJECT_SUFFIX});;JSON files (*.json);;All files (*)"
Answer = QMessageBox.StandardButton


class ProjectController(QObject):
    def __init__(self, window: StudioWindow) -> None:
        super().__init__(window)
        self.window = window
        self.document = window.document
        self.recovery = RecoveryStore(window.paths.recovery_dir)
        self._autosaved_revision = -1
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(AUTOSAVE_MS)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()
        a = window.studio_actions
        a.new.triggered.connect(self.new)
        a.open.triggered.connect(self.open_dialog)
        a.save.triggered.connect(self.save)
        a.save_as.triggered.connect(self.save_as)
        a.recent_menu.aboutToShow.connect(self._fill_recent)
        a.open_recent.triggered.connect(self.popup_recent)
        a.export_sheet.triggered.connect(self.export_sheet)

    # Questions to the user; tests replace these.

    def ask_save_changes(self) -> Answer:
        return QMessageBox.question(
            self.window,
            "Unsaved changes",
            f"Save the changes to “{self.document.storyboard.title or 'Untitled'}” before closing it?",
            Answer.Save | Answer.Discard | Answer.Cancel,
            Answer.Save,
        )

    def ask_recover(self, when: str) -> bool:
        answer = QMessageBox.question(
            self.window,
            "Recover unsaved work?",
            f"Kling Studio closed unexpectedly with unsaved edits (last copy {when}). Restore them?",
            Answer.Yes | Answer.No,
            Answer.Yes,
        )
        return answer == Answer.Yes

    def choose_open_path(self) -> str:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open project", self._folder(), FILE_FILTER)
        return path

    def choose_save_path(self) -> str:
        name = (self.document.storyboard.title or "Untitled").strip().replace("/", "-") + PROJECT_SUFFIX
        path, _ = QFileDialog.getSaveFileName(
            self.window, "Save project", str(Path(self._folder()) / name), FILE_FILTER
        )
        if path and not path.endswith(PROJECT_SUFFIX) and not path.endswith(".json"):
            path += PROJECT_SUFFIX
        return path

    def show_error(self, title: str, text: str) -> None:
        QMessageBox.warning(self.window, title, text)

    # Commands.

    def confirm_discard(self) -> bool:
        """True when the current storyboard may be replaced or closed."""
        if not self.document.is_dirty:
            return True
        answer = self.ask_save_changes()
        if answer == Answer.Save:
            return self.save()
        return answer == Answer.Discard

    def new(self) -> None:
        if self.confirm_discard():
            self.document.load(new_storyboard(), None)
            self.recovery.clear()

    def open_dialog(self) -> None:
        if not self.confirm_discard():
            return
        path = self.choose_open_path()
        if path:
            self.open(path, confirmed=True)

    def open(self, path: str, *, confirmed: bool = False, as_copy: bool = False) -> bool:
        """Open a project. ``as_copy`` opens it untitled (the bundled sample), so Save asks where."""
        if not confirmed and not self.confirm_discard():
            return False
        try:
            storyboard = load_project(path)
        except (ProjectFileError, ProjectIOError) as exc:
            self.show_error("Cannot open the project", str(exc))
            return False
        self.recovery.clear()
        if as_copy:
            self.document.load(storyboard, None)
            self.window.show_message(f"Opened a copy of {Path(path).name}; Save asks where to keep it")
            return True
        resolved = str(Path(path).resolve())
        self.document.load(storyboard, resolved)
        self._remember(resolved)
        self.window.show_message(f"Opened {Path(path).name}")
        return True

    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self.save_to(self.document.path)

    def save_as(self) -> bool:
        path = self.choose_save_path()
        return self.save_to(path) if path else False

    def save_to(self, path: str) -> bool:
        try:
            save_project(path, self.document.storyboard)
        except ProjectIOError as exc:
            self.show_error("Cannot save the project", exc.message)
            return False
        resolved = str(Path(path).resolve())
        self.document.mark_saved(resolved)
        self.recovery.clear()
        self._remember(resolved)
        self.window.show_message(f"Saved {Path(path).name}")
        return True

    def open_snapshot(self, snapshot: object) -> bool:
        """Load a job's or take's storyboard into the editor as a new, unsaved storyboard."""
        if not isinstance(snapshot, dict) or not self.confirm_discard():
            return False
        try:
            storyboard = storyboard_from_snapshot(snapshot)
        except ProjectFileError as exc:
            self.show_error("Cannot load this storyboard", str(exc))
            return False
        self.document.load(storyboard, None, dirty=True)
        self.window.show_message("Loaded the job's storyboard; save it to keep it.")
        return True

    def export_sheet(self) -> None:
        try:
            from kling_studio.ui.contact_sheet import ContactSheetError, export_contact_sheet
        except ImportError:
            self.window.show_message("Contact sheets are not available in this build.")
            return
        base = Path(self._folder()) / ((self.document.storyboard.title or "storyboard").replace("/", "-") + ".pdf")
        path, _ = QFileDialog.getSaveFileName(
            self.window, "Export storyboard sheet", str(base), "PDF (*.pdf);;HTML (*.html)"
        )
        if not path:
            return
        try:
            out = export_contact_sheet(self.document.storyboard, path)
        except (ContactSheetError, OSError) as exc:
            self.show_error("Cannot export the sheet", str(exc))
            return
        self.window.show_message(f"Exported {out.name}")

    # Autosave and recovery.

    def autosave(self) -> None:
        if not self.document.is_dirty or self.document.revision == self._autosaved_revision:
            return
        try:
            self.recovery.write(self.document.storyboard, self.document.path)
            self._autosaved_revision = self.document.revision
        except OSError as exc:
            log.warning("autosave failed: %s", exc)

    def offer_recovery(self) -> bool:
        """At start: restore the draft a crash left behind, if the user wants it."""
        draft = self.recovery.read()
        if draft is None:
            return False
        import time

        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(draft.saved_at))
        if not self.ask_recover(when):
            self.recovery.clear()
            return False
        self.document.load(draft.storyboard, draft.original_path, dirty=True)
        self.window.show_message("Recovered unsaved work; save it to keep it.")
        return True

    def shutdown(self) -> None:
        """A clean exit: nothing to recover next time."""
        self.autosave_timer.stop()
        self.recovery.clear()

    # Recent files.

    def _remember(self, path: str) -> None:
        self.window.set_settings(self.window.settings.with_recent(path))

    def popup_recent(self) -> None:
        """From the keyboard (Ctrl+Shift+O): the recent projects, where the File menu drops down."""
        menu = self.window.studio_actions.recent_menu
        if not menu.isVisible():
            bar = self.window.menuBar()
            menu.popup(bar.mapToGlobal(bar.rect().bottomLeft()))

    def _fill_recent(self) -> None:
        menu = self.window.studio_actions.recent_menu
        menu.clear()
        recent = [p for p in self.window.settings.recent_files if Path(p).exists()]
        for p in recent:
            action = menu.addAction(Path(p).name.removesuffix(PROJECT_SUFFIX))
            action.setToolTip(p)
            action.setStatusTip(p)
            action.triggered.connect(lambda _checked=False, p=p: self.open(p))
        if not recent:
            menu.addAction("No recent projects").setEnabled(False)

    def _folder(self) -> str:
        if self.document.path:
            return str(Path(self.document.path).parent)
        recent = self.window.settings.recent_files
        return str(Path(recent[0]).parent) if recent else str(Path.home())
