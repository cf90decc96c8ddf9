"""The queue's confirmations: cancelling (may still be billed), removing (files stay by default) and a
paid retry (names the amount before anything is sent)."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QMessageBox, QWidget

from kling_studio.domain.job_record import JobRecord
from kling_studio.ui.queue_format import retry_cost_question

CANCEL_WARNING = (
    "Kling Studio will stop waiting for this job. If the task is already running on the service, "
    "it may still finish and be billed; cancelling here does not stop it there."
)


def _name(job: JobRecord) -> str:
    return f"“{job.title or 'Untitled'}”"


def cancel_box(parent: QWidget | None, job: JobRecord) -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.Warning, "Cancel job", f"Cancel {_name(job)}?", parent=parent)
    box.setInformativeText(CANCEL_WARNING if job.task_id else "It has not reached the service yet; nothing is billed.")
    box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    box.button(QMessageBox.StandardButton.Yes).setText("Cancel job")
    box.button(QMessageBox.StandardButton.No).setText("Keep waiting")
    box.setDefaultButton(QMessageBox.StandardButton.No)
    return box


def remove_box(parent: QWidget | None, job: JobRecord) -> QMessageBox:
    box = QMessageBox(
        QMessageBox.Icon.Question, "Remove from list", f"Remove {_name(job)} from the list?", parent=parent
    )
    box.setInformativeText("The video and its sidecar stay in the library folder unless you tick the box.")
    box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    box.button(QMessageBox.StandardButton.Yes).setText("Remove")
    box.setDefaultButton(QMessageBox.StandardButton.No)
    also = QCheckBox("Also delete the video and sidecar files", box)  # parented: outlives this function
    also.setEnabled(bool(job.video_path or job.sidecar_path))
    box.setCheckBox(also)
    return box


def retry_box(parent: QWidget | None, job: JobRecord) -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.Question, "Retry job", retry_cost_question(job), parent=parent)
    box.setInformativeText(
        f"A new job is sent to the service with the same request as {_name(job)}; this one stays in the list."
    )
    box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    box.button(QMessageBox.StandardButton.Yes).setText("Retry")
    box.button(QMessageBox.StandardButton.No).setText("Don't retry")
    box.setDefaultButton(QMessageBox.StandardButton.No)  # money: Enter alone never spends it
    return box


def confirm_retry(parent: QWidget | None, job: JobRecord) -> bool:
    return retry_box(parent, job).exec() == QMessageBox.StandardButton.Yes


def confirm_cancel(parent: QWidget | None, job: JobRecord) -> bool:
    return cancel_box(parent, job).exec() == QMessageBox.StandardButton.Yes


def confirm_remove(parent: QWidget | None, job: JobRecord) -> tuple[bool, bool]:
    """(remove?, also delete files?)"""
    box = remove_box(parent, job)
    ok = box.exec() == QMessageBox.StandardButton.Yes
    check = box.checkBox()
    return ok, bool(ok and check is not None and check.isChecked())
