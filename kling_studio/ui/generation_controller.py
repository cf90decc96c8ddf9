"""Generation for the window: submit, play animatic, copy prompt, copy request as cURL, settings."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from kling_studio.domain.storyboard import shot_start_times
from kling_studio.ui.animatic_runner import AnimaticRunner
from kling_studio.ui.engine_startup import startup_of
from kling_studio.ui.engine_switch import engine_settings_changed, switch_engine
from kling_studio.ui.queue_format import LOCAL_COST, plain_words
from kling_studio.ui.request_export import curl_command
from kling_studio.ui.sequence_document import FROM_PREVIOUS
from kling_studio.ui.tasks import TaskSet

if TYPE_CHECKING:
    from kling_studio.ui.main_window import StudioWindow

log = logging.getLogger("kling_studio.ui")


def blocking_reasons(window: StudioWindow) -> list[str]:
    """Why Submit is disabled right now (empty when it is enabled)."""
    reasons = [d.message for d in window.document.compiled.errors]  # words, never the raw code
    if window.first_frame.busy:
        reasons.append("The first frame is still being checked.")
    if window.engine is None and startup_of(window) is None:  # while it starts, a submit waits
        reasons.append("The job engine is not running (it may still be starting).")
    if window.document.storyboard.extra.get(FROM_PREVIOUS):
        # A plain submit would send it as text-to-video and bill a take nobody asked for: the
        # sequence runner waits for the previous take and sends its last frame.
        reasons.append(
            "This segment continues from the previous take's last frame: use Generate → Generate Segment "
            "(Ctrl+Alt+G), which waits for that take and starts from its frame."
        )
    return reasons


class GenerationController(QObject):
    def __init__(self, window: StudioWindow) -> None:
        super().__init__(window)
        self.window = window
        self.document = window.document
        self.tasks = TaskSet()
        self.submitting = False
        self.animatic = AnimaticRunner(self)
        self.animatic.progress.connect(self._animatic_progress)
        self.animatic.finished.connect(self._animatic_done)
        self.animatic.failed.connect(self._animatic_failed)
        a = window.studio_actions
        a.submit.triggered.connect(self.start_submit)
        a.copy_prompt.triggered.connect(self.copy_prompt)
        a.copy_curl.triggered.connect(self.copy_curl)
        a.play_animatic.triggered.connect(self.play_animatic)
        a.settings.triggered.connect(self.open_settings)
        a.about.triggered.connect(self.open_about)
        window.first_frame.busy_changed.connect(lambda _b: self.update_submit_state())

    # Submit.

    def update_submit_state(self) -> None:
        a = self.window.studio_actions
        reasons = blocking_reasons(self.window)
        enabled = not reasons and not self.submitting
        a.submit.setEnabled(enabled)
        self.window.submit_button.setEnabled(enabled)
        cost = self.document.compiled.estimated_cost_usd
        engine = self.window.engine
        local = engine is not None and engine.is_local
        self.window.generation_panel.set_local_backend(local)
        paid = "Submit" if cost is None else f"Submit · ${cost:.2f}"
        label = f"Submit · {LOCAL_COST}" if local else paid  # the local preview server is free
        self.window.submit_button.setText(label)
        tip = "Submit is blocked:\n" + "\n".join(f"• {r}" for r in reasons) if reasons else str(a.submit.data())
        a.submit.setToolTip(tip)
        self.window.submit_button.setToolTip(tip)

    def start_submit(self) -> None:
        if self.window.studio_actions.submit.isEnabled():
            self.tasks.spawn(self.submit())

    async def submit(self) -> None:
        startup = startup_of(self.window)
        if self.window.engine is None and startup is not None and not self.submitting:
            self.submitting = True  # one waiting submit (a second press is not a second job)
            self.update_submit_state()
            self.window.show_message("Submitting as soon as the queue has started…", 0)
            try:
                await startup.wait()
            finally:
                self.submitting = False
                self.update_submit_state()
            if self.window.engine is None:
                self.window.show_message(
                    "Nothing was submitted: the queue is not running in this window (see the status bar).", 0
                )
                return
        engine = self.window.engine
        if engine is None or blocking_reasons(self.window) or self.submitting:
            return
        self.submitting = True
        self.update_submit_state()
        try:
            record = await engine.submit_storyboard(self.document.storyboard, project_path=self.document.path)
        except ValueError as exc:
            # open(), not exec(): a nested event loop must not run inside this task.
            words = "\n".join(plain_words(line) for line in str(exc).splitlines())  # no raw codes
            box = QMessageBox(QMessageBox.Icon.Warning, "Not submitted", words, parent=self.window)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
            return
        finally:
            self.submitting = False
            self.update_submit_state()
        dock = self.window.queue_dock
        dock.show()
        dock.raise_()
        self.window.show_message(f"Queued “{record.title}” · {record.duration} s · {record.resolution}")

    # Clipboard.

    def copy_prompt(self) -> None:
        QApplication.clipboard().setText(self.document.compiled.text)
        self.window.show_message(f"Copied the prompt ({self.document.compiled.length} characters)")

    def copy_curl(self) -> None:
        text = curl_command(self.document.compiled.request, self.window.settings.base_url)
        QApplication.clipboard().setText(text)
        self.window.show_message("Copied a curl command; it reads the key from $KLING_STUDIO_API_KEY")

    # Animatic.

    def play_animatic(self) -> None:
        if self.animatic.running:
            self.window.show_message("The animatic is already rendering…")
            return
        storyboard = self.document.storyboard
        if not storyboard.shots or storyboard.total_duration <= 0:
            self.window.show_message("Add a shot with some seconds to play an animatic.")
            return
        self.animatic.start(storyboard)
        self.window.show_message("Rendering the animatic…", 0)

    def _animatic_progress(self, value: int) -> None:
        bar = self.window.progress
        bar.show()
        if value < 0:
            bar.setRange(0, 0)
        else:
            bar.setRange(0, 100)
            bar.setValue(value)

    def _animatic_done(self, path: str) -> None:
        self.window.progress.hide()
        self.window.show_message("Animatic ready")
        panel = self.window.preview_dock.widget()
        load = getattr(panel, "load", None)
        if callable(load):
            starts = shot_start_times(self.document.storyboard.shots)
            try:
                load(path, starts, autoplay=True)
            except TypeError:  # a preview without autoplay
                load(path, starts)
            self.window.preview_dock.show()
            self.window.preview_dock.raise_()
        else:
            self.window.show_message(f"Animatic rendered: {path}", 0)

    def _animatic_failed(self, message: str) -> None:
        self.window.progress.hide()
        self.window.show_message(message, 0)
        log.warning("animatic failed: %s", message)

    # Dialogs.

    def open_settings(self) -> None:
        from kling_studio.services.secrets import get_api_key
        from kling_studio.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.window.settings, self.window)
        if dialog.exec() != SettingsDialog.DialogCode.Accepted:
            return
        new = dialog.result_settings()
        old = self.window.settings
        theme_changed = new.theme != old.theme
        self.window.set_settings(new)
        self.document.set_prices(new.prices)
        if theme_changed:
            self.window.apply_theme(new.theme)
        if self.window.job_panels is not None:
            self.window.job_panels.settings_changed()
        self.window.update_backend_label()
        factory = self.window.engine_factory
        if factory is not None and engine_settings_changed(old, new, dialog.entered_key() is not None):
            self.tasks.spawn(switch_engine(self.window, factory))
        elif get_api_key() is not None and dialog.entered_key() is not None:
            self.window.show_message("Key stored in the keyring. Restart Kling Studio to switch the backend.", 0)

    def open_about(self) -> None:
        from kling_studio.ui.about_dialog import AboutDialog

        AboutDialog(self.window.paths, self.window.settings, self.window).exec()

    def shutdown(self) -> None:
        self.tasks.cancel_all()
        self.animatic.close()
