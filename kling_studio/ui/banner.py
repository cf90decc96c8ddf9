"""The first-run banner: no key yet, so jobs run locally and cost nothing."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from kling_studio.ui import icons

BANNER_TEXT = (
    "<b>Local preview — no credits spent.</b> Jobs render on this computer as animatics. "
    "To generate with Kling 3.0 Turbo, add your APIMart API key in Settings — "
    "it is kept in the system keyring, never in a project file."
)


class FirstRunBanner(QFrame):
    dismissed = Signal()
    add_key_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setAccessibleName("First-run information")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 8, 8)
        layout.setSpacing(10)
        glyph = QLabel()
        glyph.setPixmap(icons.icon("key").pixmap(20, 20))
        self.text = QLabel(BANNER_TEXT)
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.add_key = QPushButton("Add API key…")
        self.add_key.setAccessibleName("Add an API key")
        self.close_button = QToolButton()
        self.close_button.setIcon(icons.icon("window-close"))
        self.close_button.setToolTip("Dismiss (it will not come back)")
        self.close_button.setAccessibleName("Dismiss the banner")
        layout.addWidget(glyph)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.add_key)
        layout.addWidget(self.close_button)
        self.add_key.clicked.connect(self.add_key_requested)
        self.close_button.clicked.connect(self._dismiss)

    def _dismiss(self) -> None:
        self.hide()
        self.dismissed.emit()
