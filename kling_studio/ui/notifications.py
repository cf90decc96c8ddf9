"""Telling the user a job ended: a desktop notification when they are elsewhere, a status-bar line always.

Failure messages say what to do next, in the words of the job's state.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QSystemTrayIcon, QWidget

from kling_studio.domain.job_record import EVENT_REMOVED, JobEvent, JobRecord
from kling_studio.domain.jobs import JobState
from kling_studio.services.engine_api import JobEngineAPI
from kling_studio.ui.queue_delegates import state_icon
from kling_studio.ui.queue_format import LOCAL_STOPPED, local_preview_lost, plain_words

STATUS_TIMEOUT_MS = 10_000
NOTIFY_STATES = frozenset({JobState.DONE, JobState.FAILED, JobState.NEEDS_ATTENTION, JobState.EXPIRED})


def _name(job: JobRecord) -> str:
    return f"“{job.title or 'Untitled'}”"


def _reason(job: JobRecord) -> str:
    text = plain_words(job.error_message).rstrip(".")
    return f": {text}." if text else "."


def notification_text(job: JobRecord) -> tuple[str, str] | None:
    """(title, body) for a job that just ended, or None when there is nothing to tell."""
    if job.state is JobState.DONE:
        return (
            "Video ready",
            f"{_name(job)} is ready ({job.duration} s, {job.resolution}). Select it in the queue to play it.",
        )
    if local_preview_lost(job):
        return ("Local preview interrupted", f"{_name(job)}: {LOCAL_STOPPED}.")
    if job.state is JobState.FAILED and job.error_code == "task_not_found":
        # The service no longer knows the task: we cannot say whether it was billed.
        return (
            "Task not found",
            f"{_name(job)}: the service does not know this task any more{_reason(job)} "
            "Check your APIMart task history before submitting it again.",
        )
    if job.state is JobState.FAILED:
        return (
            "Job failed",
            f"{_name(job)} failed{_reason(job)} Failed tasks are not billed. "
            "Fix what the message points at in the editor, then use Retry.",
        )
    if job.state is JobState.NEEDS_ATTENTION:
        return (
            "Job needs attention",
            f"{_name(job)} needs attention{_reason(job)} Use Check again in the queue: it asks the service "
            "about the same task and never pays twice.",
        )
    if job.state is JobState.EXPIRED:
        return (
            "Result link expired",
            f"{_name(job)} finished, but its download link expired before the video was saved. "
            "Use Retry to generate it again.",
        )
    if job.state is JobState.CANCELLED:
        return (
            "Job cancelled",
            f"{_name(job)} was cancelled. If it was already running on the service it may still be billed.",
        )
    return None


class JobNotifier(QObject):
    """Watches the engine; says when a job finishes or fails."""

    status_message = Signal(str, int)  # text, timeout in ms: connect to QStatusBar.showMessage
    notified = Signal(str, str)  # title, body: a desktop notification was shown

    def __init__(
        self,
        engine: JobEngineAPI,
        window: QWidget | None = None,
        *,
        enabled: bool = True,
        tray_available: Callable[[], bool] = QSystemTrayIcon.isSystemTrayAvailable,
        icon: QIcon | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent if parent is not None else window)
        self._window = window
        self._enabled = enabled
        self._tray_available = tray_available
        self._icon = icon
        self._tray: QSystemTrayIcon | None = None
        # States only: light records, so a long history is not read whole at start.
        self._last: dict[str, JobState] = {job.id: job.state for job in engine.job_summaries()}
        self._unsubscribe: Callable[[], None] | None = engine.subscribe(self.on_event)

    def set_enabled(self, enabled: bool) -> None:
        """The "desktop notifications" setting; the status-bar line stays either way."""
        self._enabled = enabled
        if not enabled and self._tray is not None:
            self._tray.hide()

    def set_tray_icon(self, tray: QSystemTrayIcon) -> None:
        """Share the window's tray icon instead of creating one."""
        self._tray = tray

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._tray is not None:
            self._tray.hide()

    def on_event(self, event: JobEvent) -> None:
        job = event.job
        if event.kind == EVENT_REMOVED:
            self._last.pop(job.id, None)
            return
        # Our own memory of the last state wins over the event's, so each ending is told exactly once.
        previous = self._last.get(job.id, event.previous_state)
        self._last[job.id] = job.state
        if previous is None or previous is job.state:
            return  # a new job, or a change that is not a transition (progress, a star)
        text = notification_text(job)
        if text is None:
            return
        if job.state is JobState.CANCELLED:  # the user did it: a status line, no desktop pop-up
            self.status_message.emit(text[1], STATUS_TIMEOUT_MS)
            return
        if job.state not in NOTIFY_STATES:
            return
        title, body = text
        self.status_message.emit(body, STATUS_TIMEOUT_MS)
        if self._enabled and not self._window_active() and self._tray_available():
            tray = self._ensure_tray()
            icon = QSystemTrayIcon.MessageIcon.Information
            if job.state is not JobState.DONE:
                icon = QSystemTrayIcon.MessageIcon.Warning
            tray.showMessage(title, body, icon, STATUS_TIMEOUT_MS)
            self.notified.emit(title, body)

    def _window_active(self) -> bool:
        return self._window is not None and self._window.isActiveWindow()

    def _ensure_tray(self) -> QSystemTrayIcon:
        if self._tray is None:
            icon = self._icon
            if icon is None or icon.isNull():
                window_icon = self._window.windowIcon() if self._window is not None else QIcon()
                icon = window_icon if not window_icon.isNull() else state_icon(JobState.DONE, 32)
            self._tray = QSystemTrayIcon(icon, self)
            self._tray.setToolTip("Kling Studio")
        if not self._tray.isVisible():
            self._tray.show()
        return self._tray
