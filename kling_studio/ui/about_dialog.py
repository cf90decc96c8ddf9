"""Help → About: versions, and where settings, logs and the library live."""

from __future__ import annotations

import html
import platform
import sys

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from kling_studio import __version__
from kling_studio.services.paths import AppPaths
from kling_studio.services.settings import AppSettings


def about_facts(paths: AppPaths, settings: AppSettings) -> list[tuple[str, str]]:
    return [
        ("Kling Studio", __version__),
        ("Qt", qVersion()),
        ("PySide6", PySide6.__version__),
        ("Python", f"{platform.python_version()} ({sys.implementation.name})"),
        ("Settings", str(paths.settings_file)),
        ("Logs", str(paths.log_dir)),
        ("Library", str(settings.library_path(paths))),
        ("Job store", str(paths.job_store)),
    ]


class AboutDialog(QDialog):
    def __init__(self, paths: AppPaths, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Kling Studio")
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 20, 22, 14)
        layout.setSpacing(10)
        title = QLabel("<span style='font-size:16pt; font-weight:600'>Kling Studio</span>")
        subtitle = QLabel("Storyboard, compile, submit and review Kling 3.0 Turbo videos.")
        subtitle.setObjectName("hint")
        layout.addWidget(title)
        layout.addWidget(subtitle)
        rows = "".join(
            f"<tr><td style='padding:3px 14px 3px 0; color:palette(placeholder-text)'>{k}</td>"
            f"<td>{html.escape(v)}</td></tr>"
            for k, v in about_facts(paths, settings)
        )
        self.facts = QLabel(f"<table>{rows}</table>")
        self.facts.setTextFormat(Qt.TextFormat.RichText)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.facts.setAccessibleName("Versions and folders")
        layout.addWidget(self.facts)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)
