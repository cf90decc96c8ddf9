"""File handling for the window: new, open, open recent, save, save as, autosave and recovery.

It gets the few things it uses (document, actions, settings access, a message callable, a
parent for dialogs), not the window: the window imports it, never the other way round.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMenuBar, QMessageBox, QWidget

from kling_studio.domain.project_file import PROJECT_SUFFIX, ProjectFileError, storyboard_from_snapshot
from kling_studio.services.project_io import ProjectIOError
from kling_studio.services.sequence_io import load_sequence, save_sequence
from kling_studio.services.settings import AppSettings
from kling_studio.ui.recovery import RecoveryStore
from kling_studio.ui.sequence_document import SequenceDocument
from kling_studio.ui.storyboard_document import StoryboardDocument, new_storyboard
from kling_studio.ui.studio_actions import StudioActions

log = logging.getLogger("kling_studio.ui")

AUTOSAVE_MS = 5000
FILE_FILTER = f"Kling Studio projects (*{PROJECT_SUFFIX});;JSON files (*.json);;All files (*)"
Answer = QMessageBox.StandardButton


class ProjectController(QObject):
    # A storyboard was started or opened: the person's next keys belong in shot 1's text.
    editor_focus_requested = Signal()

    def __init__(
        self,
        document: StoryboardDocument,
        actions: StudioActions,
        parent: QWidget,
        *,
        recovery_dir: Path,
        get_settings: Callable[[], AppSettings],
        set_settings: Callable[[AppSettings], None],
        show_message: Callable[[str], None],
        menu_bar: Callable[[], QMenuBar],
    ) -> None:
        super().__init__(parent)
        self.parent_widget = parent
        self.document = document
        # The project's segments; the document edits the current one (one segment: as before).
        self.sequence = SequenceDocument(document, parent=self)
        self.actions = actions
        self._get_settings = get_settings
        self._set_settings = set_settings
        self.show_message = show_message
        self._menu_bar = menu_bar
        self.recovery = RecoveryStore(recovery_dir)
        self._autosaved_revision = -1
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(AUTOSAVE_MS)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()
        a = actions
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
            self.parent_widget,
            "Unsaved changes",
            f"Save the changes to “{self.document.storyboard.title or 'Untitled'}” before closing it?",
            Answer.Save | Answer.Discard | Answer.Cancel,
            Answer.Save,
        )

    def ask_recover(self, when: str) -> bool:
        answer = QMessageBox.question(
            self.parent_widget,
            "Recover unsaved work?",
            f"Kling Studio closed unexpectedly with unsaved edits (last copy {when}). Restore them?",
            Answer.Yes | Answer.No,
            Answer.Yes,
        )
        return answer == Answer.Yes

    def choose_open_path(self) -> str:
        path, _ = QFileDialog.getOpenFileName(self.parent_widget, "Open project", self._folder(), FILE_FILTER)
        return path

    def choose_save_path(self) -> str:
        name = (self.document.storyboard.title or "Untitled").strip().replace("/", "-") + PROJECT_SUFFIX
        path, _ = QFileDialog.getSaveFileName(
            self.parent_widget, "Save project", str(Path(self._folder()) / name), FILE_FILTER
        )
        if path and not path.endswith(PROJECT_SUFFIX) and not path.endswith(".json"):
            path += PROJECT_SUFFIX
        return path

    def show_error(self, title: str, text: str) -> None:
        QMessageBox.warning(self.parent_widget, title, text)

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
            self.sequence.load_storyboard(new_storyboard(), None)
            self.recovery.clear()
            self._focus_first_shot()

    def _focus_first_shot(self) -> None:
        if self.document.storyboard.shots:
            self.document.select(0, force=True)
        self.editor_focus_requested.emit()

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
            project = load_sequence(path)
        except (ProjectFileError, ProjectIOError) as exc:
            self.show_error("Cannot open the project", str(exc))
            return False
        self.recovery.clear()
        if as_copy:
            self.sequence.load(project, None)
            self.show_message(f"Opened a copy of {Path(path).name}; Save asks where to keep it")
            self._focus_first_shot()
            return True
        resolved = str(Path(path).resolve())
        self.sequence.load(project, resolved)
        self._remember(resolved)
        self.show_message(f"Opened {Path(path).name}")
        self._focus_first_shot()
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
            save_sequence(path, self.sequence.project)
        except ProjectIOError as exc:
            self.show_error("Cannot save the project", exc.message)
            return False
        except UnicodeEncodeError:
            self.show_error(
                "Cannot save the project",
                f"{path}: could not save: a text contains a lone surrogate (half of a character pair), "
                "which cannot be written as UTF-8. Retype that text. The previous version is unchanged.",
            )
            return False
        resolved = str(Path(path).resolve())
        self.document.mark_saved(resolved)
        self.recovery.clear()
        self._remember(resolved)
        self.show_message(f"Saved {Path(path).name}")
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
        self.sequence.load_storyboard(storyboard, None, dirty=True)
        self.show_message("Loaded the job's storyboard; save it to keep it.")
        return True

    def export_sheet(self) -> None:
        try:
            from kling_studio.ui.contact_sheet import ContactSheetError, export_contact_sheet
        except ImportError:
            self.show_message("Contact sheets are not available in this build.")
            return
        base = Path(self._folder()) / ((self.document.storyboard.title or "storyboard").replace("/", "-") + ".pdf")
        path, _ = QFileDialog.getSaveFileName(
            self.parent_widget, "Export storyboard sheet", str(base), "PDF (*.pdf);;HTML (*.html)"
        )
        if not path:
            return
        try:
            out = export_contact_sheet(self.document.storyboard, path, project_path=self.document.path)
        except (ContactSheetError, OSError) as exc:
            self.show_error("Cannot export the sheet", str(exc))
            return
        self.show_message(f"Exported {out.name}")

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
        self.sequence.load_storyboard(draft.storyboard, draft.original_path, dirty=True)
        self.show_message("Recovered unsaved work; save it to keep it.")
        return True

    def shutdown(self) -> None:
        """A clean exit: nothing to recover next time."""
        self.autosave_timer.stop()
        self.recovery.clear()

    # Recent files.

    def _remember(self, path: str) -> None:
        self._set_settings(self._get_settings().with_recent(path))

    def popup_recent(self) -> None:
        """From the keyboard (Ctrl+Shift+O): the recent projects, where the File menu drops down."""
        menu = self.actions.recent_menu
        if not menu.isVisible():
            bar = self._menu_bar()
            menu.popup(bar.mapToGlobal(bar.rect().bottomLeft()))

    def _fill_recent(self) -> None:
        menu = self.actions.recent_menu
        menu.clear()
        recent = [p for p in self._get_settings().recent_files if Path(p).exists()]
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
        recent = self._get_settings().recent_files
        return str(Path(recent[0]).parent) if recent else str(Path.home())
