"""A finished or failed job is announced: a desktop notification when away, a status line always."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QWidget

from kling_studio.domain.jobs import JobState
from kling_studio.ui.notifications import JobNotifier, notification_text
from kling_studio.ui.queue_demo import DemoEngine, make_job


@pytest.fixture
def engine() -> DemoEngine:
    return DemoEngine([make_job("Harbour", job_id="a", state=JobState.PROCESSING, created_at=1)])


def collect(notifier: JobNotifier) -> tuple[list[str], list[tuple[str, str]]]:
    status: list[str] = []
    desktop: list[tuple[str, str]] = []
    notifier.status_message.connect(lambda text, _ms: status.append(text))
    notifier.notified.connect(lambda title, body: desktop.append((title, body)))
    return status, desktop


def test_failure_while_away_notifies_and_says_what_to_do(qtbot, engine: DemoEngine) -> None:
    window = QWidget()  # never shown: not the active window
    qtbot.addWidget(window)
    notifier = JobNotifier(engine, window, tray_available=lambda: True)
    status, desktop = collect(notifier)
    engine.change("a", state=JobState.FAILED, error_message="The prompt was refused by the content filter.")
    assert len(desktop) == 1
    title, body = desktop[0]
    assert title == "Job failed"
    assert "refused by the content filter" in body and "Retry" in body and "not billed" in body
    assert status == [body]
    engine.change("a", starred=True)  # not a new ending: told once
    assert len(desktop) == 1 and len(status) == 1
    notifier.close()


def test_done_while_active_only_updates_the_status_bar(qtbot, engine: DemoEngine) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    notifier = JobNotifier(engine, window, tray_available=lambda: True)
    status, desktop = collect(notifier)
    engine.change("a", state=JobState.DONE, progress=100)
    assert desktop == []
    assert status and "is ready" in status[0]
    notifier.close()


def test_setting_off_or_no_tray_means_status_bar_only(qtbot, engine: DemoEngine) -> None:
    off = JobNotifier(engine, None, enabled=False, tray_available=lambda: True)
    no_tray = JobNotifier(engine, None, tray_available=lambda: False)
    (s1, d1), (s2, d2) = collect(off), collect(no_tray)
    engine.change("a", state=JobState.NEEDS_ATTENTION, error_message="The network dropped while polling.")
    assert d1 == [] and d2 == []
    assert "Check again" in s1[0] and s1 == s2
    off.close()
    no_tray.close()


def test_messages_for_every_ending() -> None:
    assert notification_text(make_job("X", state=JobState.EXPIRED))[0] == "Result link expired"
    assert "may still be billed" in notification_text(make_job("X", state=JobState.CANCELLED))[1]
    assert notification_text(make_job("X", state=JobState.PROCESSING)) is None


def test_task_not_found_does_not_promise_it_was_free() -> None:
    title, body = notification_text(make_job("X", state=JobState.FAILED, error_code="task_not_found"))
    assert title == "Task not found"
    assert "not billed" not in body
    assert "not billed" in notification_text(make_job("X", state=JobState.FAILED))[1]
