"""Settings: backend, API key (keyring), base URL, concurrency, largest video, library, prices,
notifications, theme."""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import replace
from decimal import Decimal, InvalidOperation

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kling_studio.domain.limits import KLING_3_TURBO
from kling_studio.services import secrets
from kling_studio.services.logging_setup import register_secret
from kling_studio.services.retry import Deadlines, RetryPolicy
from kling_studio.services.settings import BACKEND_AUTO, BACKEND_LOCAL, BACKEND_REMOTE, MAX_VIDEO_ENV, AppSettings
from kling_studio.ui import icons
from kling_studio.ui.connection_words import failure_words
from kling_studio.ui.tasks import TaskSet
from kling_studio.ui.widgets import set_style_name

log = logging.getLogger("kling_studio.ui")

BACKENDS = (
    ("Automatic (remote with a key, else local)", BACKEND_AUTO),
    ("Local preview (no credits)", BACKEND_LOCAL),
    ("Remote (Kling 3.0 Turbo via APIMart)", BACKEND_REMOTE),
)
THEMES = (("Follow the system", "system"), ("Dark", "dark"), ("Light", "light"))
MIN_VIDEO_MB, MAX_VIDEO_MB_LIMIT = 16, 100 * 1024  # the "Largest video" field: 16 MB to 100 GB
TEST_TIMEOUT_S = 15.0  # Test connection gives up (and says "timed out") after this long


class SettingsDialog(QDialog):
    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(560)
        self._settings = settings
        self._key_changed = False
        self.test_timeout = TEST_TIMEOUT_S
        self.tasks = TaskSet()
        self._build_ui()
        self._connect()

    def _build_ui(self) -> None:
        s = self._settings
        form = QFormLayout()
        form.setVerticalSpacing(10)
        form.setHorizontalSpacing(14)

        self.backend = QComboBox()
        for label, value in BACKENDS:
            self.backend.addItem(label, value)
        self.backend.setCurrentIndex(max(0, self.backend.findData(s.backend)))
        form.addRow("Backend", self.backend)

        self.api_key = QLineEdit()
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setAccessibleName("API key")
        source = secrets.key_source()
        current = secrets.get_api_key()
        self.api_key.setPlaceholderText(
            f"stored: {secrets.mask(current)}" if current else "paste your APIMart key (kept in the system keyring)"
        )
        # Show/hide: a pasted key can be checked by eye before it is stored.
        self.show_key = QToolButton()
        self.show_key.setCheckable(True)
        self.show_key.setAccessibleName("Show the key")
        self.show_key.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._update_show_key(False)
        self.test_button = QPushButton("Test connection")
        key_row = QHBoxLayout()
        key_row.addWidget(self.api_key, 1)
        key_row.addWidget(self.show_key)
        key_row.addWidget(self.test_button)
        form.addRow("API key", key_row)
        self.key_status = QLabel(
            "From the KLING_STUDIO_API_KEY environment variable (it wins over the keyring)."
            if source == "environment"
            else ""
        )
        self.key_status.setObjectName("hint")
        self.key_status.setWordWrap(True)
        form.addRow("", self.key_status)

        self.base_url = QLineEdit(s.base_url)
        self.base_url.setAccessibleName("Base URL")
        form.addRow("Base URL", self.base_url)

        self.concurrency = QSpinBox()
        self.concurrency.setRange(1, 10)
        self.concurrency.setValue(s.concurrency)
        self.concurrency.setSuffix(" jobs at once")
        form.addRow("Concurrency", self.concurrency)

        # A finished video bigger than this is not downloaded (the job says so; raising the
        # limit and Check again fetches it): a guard against a runaway or hostile answer.
        self.max_video = QSpinBox()
        self.max_video.setAccessibleName("Largest video to download")
        self.max_video.setRange(MIN_VIDEO_MB, MAX_VIDEO_MB_LIMIT)
        self.max_video.setSingleStep(256)
        self.max_video.setValue(min(max(s.max_video_mb, MIN_VIDEO_MB), MAX_VIDEO_MB_LIMIT))
        self.max_video.setSuffix(" MB")
        self.max_video.setToolTip(
            "A result bigger than this stops downloading and the job asks for attention; "
            "raise the limit and choose Check again to fetch it."
        )
        if os.environ.get(MAX_VIDEO_ENV, "").strip():
            self.max_video.setToolTip(f"{MAX_VIDEO_ENV} is set and wins over this value on this machine.")
        form.addRow("Largest video", self.max_video)

        self.library = QLineEdit(str(s.library_path()))
        self.library.setAccessibleName("Library folder")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_library)
        lib_row = QHBoxLayout()
        lib_row.addWidget(self.library, 1)
        lib_row.addWidget(browse)
        form.addRow("Library folder", lib_row)

        self.prices: dict[str, QLineEdit] = {}
        price_row = QHBoxLayout()
        for res in KLING_3_TURBO.resolutions:
            edit = QLineEdit(s.prices.get(res, str(KLING_3_TURBO.price_per_second_usd[res])))
            edit.setAccessibleName(f"Price per second at {res}")
            edit.setMaximumWidth(90)
            self.prices[res] = edit
            price_row.addWidget(QLabel(f"{res} $"))
            price_row.addWidget(edit)
            price_row.addSpacing(12)
        price_row.addWidget(QLabel("per second"))
        price_row.addStretch(1)
        form.addRow("Prices", price_row)

        self.notifications = QCheckBox("Notify me when a job ends")
        self.notifications.setChecked(s.notifications)
        form.addRow("Notifications", self.notifications)

        self.autoplay = QCheckBox("Play a job in the preview when it finishes")
        self.autoplay.setChecked(s.autoplay)
        form.addRow("Auto-play", self.autoplay)

        self.theme = QComboBox()
        for label, value in THEMES:
            self.theme.addItem(label, value)
        self.theme.setCurrentIndex(max(0, self.theme.findData(s.theme)))
        form.addRow("Theme", self.theme)

        self.error = QLabel()
        self.error.setObjectName("inlineError")
        self.error.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 18, 18, 14)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def _connect(self) -> None:
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.test_button.clicked.connect(lambda: self.tasks.spawn(self.test_connection()))
        self.show_key.toggled.connect(self._update_show_key)
        self.api_key.textEdited.connect(lambda _t: setattr(self, "_key_changed", True))

    def _update_show_key(self, shown: bool) -> None:
        self.api_key.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)
        self.show_key.setIcon(icons.icon("eye-off" if shown else "eye"))
        self.show_key.setText("Hide" if shown else "Show")
        self.show_key.setToolTip("Hide the key" if shown else "Show the key (to check what you pasted)")

    def _browse_library(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Library folder", self.library.text())
        if folder:
            self.library.setText(folder)

    def _parsed_prices(self) -> dict[str, str] | None:
        prices: dict[str, str] = {}
        for res, edit in self.prices.items():
            try:
                value = Decimal(edit.text().strip())
            except InvalidOperation:
                return None
            if value < 0:
                return None
            prices[res] = str(value)
        return prices

    def result_settings(self) -> AppSettings:
        """The edited settings (call after ``exec`` returned Accepted)."""
        prices = self._parsed_prices() or dict(self._settings.prices)
        library = self.library.text().strip()
        default_library = str(AppSettings().library_path())
        return replace(
            self._settings,
            backend=str(self.backend.currentData()),
            base_url=self.base_url.text().strip().rstrip("/") or self._settings.base_url,
            concurrency=self.concurrency.value(),
            max_video_mb=self.max_video.value(),
            library_dir=None if library in ("", default_library) else library,
            prices=prices,
            notifications=self.notifications.isChecked(),
            autoplay=self.autoplay.isChecked(),
            theme=str(self.theme.currentData()),
        )

    def entered_key(self) -> str | None:
        """A new key typed by the user, or None when the field was left alone."""
        key = self.api_key.text().strip()
        return key if self._key_changed and key else None

    def accept(self) -> None:
        if self._parsed_prices() is None:
            self.error.setText("Prices must be numbers of dollars per second, such as 0.112.")
            return
        key = self.entered_key()
        if key is not None:
            register_secret(key)  # scrubbed from every log line from now on, before anything can log it
            try:
                secrets.set_api_key(key)
            except Exception as exc:  # keyring backends raise their own types
                self.error.setText(
                    f"The key could not be stored in the system keyring ({type(exc).__name__}). "
                    "Start a keyring service (GNOME Keyring, KWallet), or set the KLING_STUDIO_API_KEY "
                    "environment variable before starting Kling Studio."
                )
                return
        self.tasks.cancel_all()
        super().accept()

    def reject(self) -> None:
        self.tasks.cancel_all()
        super().reject()

    async def test_connection(self) -> None:
        key = self.api_key.text().strip() or secrets.get_api_key()
        if not key:
            self._status("Enter a key first.", ok=False)
            return
        register_secret(key)  # the client may log requests and errors
        try:
            from kling_studio.services.api_client import KlingClient  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            self._status("The API client is not available in this build.", ok=False)
            return
        self.test_button.setEnabled(False)
        self._status("Connecting…", ok=True)
        client = None
        base_url = self.base_url.text().strip()
        try:
            # One attempt with a short deadline: the person waits for this answer.
            client = KlingClient(
                key,
                base_url,
                retry=RetryPolicy(max_attempts=1),
                deadlines=Deadlines(api=self.test_timeout + 5),
            )
            async with asyncio.timeout(self.test_timeout):
                await client.model_schema()
            self._status("Connected: the key works and the model answers.", ok=True)
        except Exception as exc:  # any failure is reported in words, never raised at the user
            log.info("connection test failed: %s", type(exc).__name__)
            self._status(failure_words(exc, base_url, self.test_timeout), ok=False)
        finally:
            close = getattr(client, "aclose", None)
            if close is not None:
                try:
                    await close()
                except Exception:
                    log.debug("closing the test client failed", exc_info=True)
            self.test_button.setEnabled(True)

    def _status(self, text: str, *, ok: bool) -> None:
        self.key_status.setText(text)
        set_style_name(self.key_status, "hint" if ok else "inlineError")
