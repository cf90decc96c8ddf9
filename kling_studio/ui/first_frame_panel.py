"""The first-frame drop zone: drag a file in, paste, Browse…, or give an https URL.

Images are measured and thumbnailed in an executor (Pillow decodes the whole file), so a
50 MB picture never blocks the window. A file that breaks a rule is refused with the rule and
the measured value, and the storyboard keeps its previous first frame.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDropEvent, QImage, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QStackedLayout,
    QVBoxLayout,
    QWidget,
)

from kling_studio.domain.first_frame import FirstFrameCheck, check_first_frame_url, check_image_facts
from kling_studio.domain.limits import KLING_3_TURBO, MB
from kling_studio.domain.storyboard import FirstFrame
from kling_studio.services.paths import app_paths
from kling_studio.ui import icons
from kling_studio.ui.edit_commands import SetFirstFrameCommand
from kling_studio.ui.first_frame_io import Measured, measure_image, save_pasted_image
from kling_studio.ui.storyboard_document import StoryboardDocument
from kling_studio.ui.tasks import TaskSet
from kling_studio.ui.widgets import Card, ElideWhenNarrow, set_style_name

THUMB_SIZE = QSize(160, 90)  # small enough for a laptop's right column
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff *.gif);;All files (*)"


def _local_files(urls: list[QUrl]) -> list[str]:
    return [u.toLocalFile() for u in urls if u.isLocalFile()]


def _size_text(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB else f"{max(1, round(n / 1024))} KB"


def _absolute(path: str) -> str:
    # Pure string work (no disk access), so it is fine on the event loop.
    return os.path.abspath(path)


class DropZone(QFrame):
    """The dashed area; it only forwards drops to the panel."""

    files_dropped = Signal(list)
    url_dropped = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dropZone")
        self.setAcceptDrops(True)
        self.setAccessibleName("First-frame drop zone")

    def _set_active(self, active: bool) -> None:
        self.setProperty("dragActive", active)
        self.style().unpolish(self)
        self.style().polish(self)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if mime.hasUrls():
            event.acceptProposedAction()
            self._set_active(True)
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragEnterEvent) -> None:  # type: ignore[override]
        event.acceptProposedAction()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._set_active(False)

    def dropEvent(self, event: QDropEvent) -> None:
        self._set_active(False)
        urls = event.mimeData().urls()
        files = _local_files(urls)
        if files:
            self.files_dropped.emit(files)
        elif urls:
            self.url_dropped.emit(urls[0].toString())
        event.acceptProposedAction()


class FirstFramePanel(Card):
    busy_changed = Signal(bool)

    def __init__(
        self, document: StoryboardDocument, parent: QWidget | None = None, *, pasted_dir: Path | None = None
    ) -> None:
        super().__init__("First frame", parent)
        self.document = document
        # Pasted pictures have no file: they are kept here so the project can point to them.
        self.pasted_dir = pasted_dir if pasted_dir is not None else app_paths().data_dir / "pasted"
        self.file_dialog: QFileDialog | None = None
        self._thumbs: dict[str, QPixmap] = {}
        self._pending: set[str] = set()
        self.tasks = TaskSet()
        self._build_ui()
        self._connect()
        self._sync()

    # Building.

    def _build_ui(self) -> None:
        self.drop_zone = DropZone()
        self.stack = QStackedLayout(self.drop_zone)

        empty = QWidget()
        v = QVBoxLayout(empty)
        v.setContentsMargins(12, 10, 12, 10)
        v.setSpacing(4)
        glyph = QLabel()
        glyph.setPixmap(icons.icon("image").pixmap(28, 28))
        glyph.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title = QLabel("Drop an image here")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint = QLabel(f"or paste it (Ctrl+Shift+V) · JPEG or PNG, sides ≥ {KLING_3_TURBO.first_frame_min_side} px")
        hint.setObjectName("hint")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setWordWrap(True)
        self.browse_button = QPushButton("Browse…")
        self.browse_button.setAccessibleName("Browse for a first-frame image")
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.browse_button)
        row.addStretch(1)
        v.addWidget(glyph)
        v.addWidget(title)
        v.addWidget(hint)
        v.addLayout(row)
        v.addSpacing(4)
        url_row = QHBoxLayout()
        url_row.setSpacing(6)
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText("…or an image URL: https://")
        self.url_edit.setAccessibleName("First-frame image URL")
        self.url_edit.setClearButtonEnabled(True)
        self.url_button = QPushButton("Use URL")
        url_row.addWidget(self.url_edit, 1)
        url_row.addWidget(self.url_button)
        v.addLayout(url_row)
        self.stack.addWidget(empty)

        filled = QWidget()
        h = QHBoxLayout(filled)
        h.setContentsMargins(10, 10, 10, 10)
        h.setSpacing(12)
        self.thumbnail = QLabel()
        self.thumbnail.setFixedSize(THUMB_SIZE)
        self.thumbnail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumbnail.setAccessibleName("First-frame thumbnail")
        info = QVBoxLayout()
        info.setSpacing(2)
        self.name_label = QLabel()
        self.name_label.setWordWrap(True)
        self.facts_label = QLabel()
        self.facts_label.setObjectName("hint")
        self.facts_label.setAccessibleName("First-frame size and ratio")
        ElideWhenNarrow(self.facts_label)  # a narrow column shows "…", the tooltip all of it
        self.remove_button = QPushButton("Remove")
        self.remove_button.setIcon(icons.icon("shot-delete"))
        self.remove_button.setAccessibleName("Remove the first frame")
        self.replace_button = QPushButton("Replace…")
        buttons = QHBoxLayout()
        buttons.addWidget(self.replace_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        info.addWidget(self.name_label)
        info.addWidget(self.facts_label)
        info.addStretch(1)
        info.addLayout(buttons)
        h.addWidget(self.thumbnail)
        h.addLayout(info, 1)
        self.stack.addWidget(filled)
        self.body.addWidget(self.drop_zone)

        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName("Reading the image")
        self.progress.hide()
        self.body.addWidget(self.progress)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAccessibleName("First-frame check")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()
        self.body.addWidget(self.message)

    def _connect(self) -> None:
        self.drop_zone.files_dropped.connect(lambda files: self.start_attach_file(files[0]))
        self.drop_zone.url_dropped.connect(self.attach_url)
        self.browse_button.clicked.connect(self.browse)
        self.replace_button.clicked.connect(self.browse)
        self.remove_button.clicked.connect(self.remove)
        self.url_button.clicked.connect(lambda: self.attach_url(self.url_edit.text()))
        self.url_edit.returnPressed.connect(lambda: self.attach_url(self.url_edit.text()))
        self.document.changed.connect(self._sync)

    # Actions.

    def browse(self) -> None:
        """Ask for an image file. ``open()``, not ``exec()``: no nested event loop under running tasks."""
        if self.file_dialog is not None and self.file_dialog.isVisible():
            self.file_dialog.raise_()
            return
        dialog = QFileDialog(self, "Choose a first frame", str(Path.home()), IMAGE_FILTER)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(self.start_attach_file)
        dialog.destroyed.connect(lambda _o=None: setattr(self, "file_dialog", None))
        self.file_dialog = dialog
        dialog.open()

    def paste(self) -> bool:
        """Attach the clipboard's image file, URL or picture. False when it holds none."""
        mime = QApplication.clipboard().mimeData()
        if mime is None:
            return False
        files = _local_files(mime.urls()) if mime.hasUrls() else []
        if files:
            self.start_attach_file(files[0])
            return True
        if mime.hasImage():
            image = QImage(mime.imageData())
            if image.isNull():
                self._show_message("The clipboard's picture could not be read.", error=True)
                return False
            self.tasks.spawn(self.attach_image(image))
            return True
        text = mime.text().strip() if mime.hasText() else ""
        if text.lower().startswith("https://"):
            self.attach_url(text)
            return True
        self._show_message("The clipboard holds no image, image file or https:// link.", error=True)
        return False

    async def attach_image(self, image: QImage) -> bool:
        """Save a pasted picture as PNG (off the GUI thread), then attach it like a dropped file."""
        token = f"<pasted picture {id(image)}>"  # busy (Submit waits) until the file is written
        self._pending.add(token)
        self.progress.show()
        self.busy_changed.emit(True)
        try:
            import asyncio  # late: the window paints before asyncio loads

            loop = asyncio.get_running_loop()
            path = await loop.run_in_executor(None, save_pasted_image, image.copy(), self.pasted_dir)
        except OSError as exc:
            self._show_message(f"The pasted picture could not be saved: {exc}", error=True)
            return False
        finally:
            self._pending.discard(token)
            self.progress.setVisible(bool(self._pending))
            self.busy_changed.emit(bool(self._pending))
        return await self.attach_file(path)

    def start_attach_file(self, path: str) -> None:
        self.tasks.spawn(self.attach_file(path))

    async def attach_file(self, path: str) -> bool:
        """Measure ``path`` off the GUI thread; attach it when it passes, else say why."""
        path = _absolute(path)
        measured = await self._measure(path)
        if measured is None:
            return False
        check = measured.check
        errors, warnings = self._judge(check)
        if errors:
            self._show_message(errors[0], error=True)
            return False
        self.document.remember_check(path, check)
        current = self.document.storyboard.first_frame
        if current is None or current.path != path:
            self.document.push(SetFirstFrameCommand(self.document, FirstFrame(path=path)))
        self._show_message(warnings[0] if warnings else "", error=False)
        return True

    def attach_url(self, url: str) -> bool:
        url = url.strip()
        problem = check_first_frame_url(url)
        if problem is not None:
            self._show_message(problem.message, error=True)
            return False
        self.url_edit.clear()
        self.document.push(SetFirstFrameCommand(self.document, FirstFrame(url=url)))
        self._show_message("The image is fetched by the service; it is not checked here.", error=False)
        return True

    def remove(self) -> None:
        if self.document.storyboard.first_frame is not None:
            self.document.push(SetFirstFrameCommand(self.document, None))
        self._show_message("", error=False)

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    # Internals.

    def _judge(self, check: FirstFrameCheck) -> tuple[list[str], list[str]]:
        if check.read_error is not None:
            return [check.read_error.message], []
        if check.facts is None:
            return ["The image could not be measured."], []
        errors, warnings = check_image_facts(check.facts, KLING_3_TURBO)
        return [d.message for d in errors], [d.message for d in warnings]

    async def _measure(self, path: str) -> Measured | None:
        if path in self._pending:
            return None
        self._pending.add(path)
        self.progress.show()
        self.busy_changed.emit(True)
        try:
            import asyncio  # late: the window paints before asyncio loads

            loop = asyncio.get_running_loop()
            measured = await loop.run_in_executor(None, measure_image, path, THUMB_SIZE.width(), THUMB_SIZE.height())
        finally:
            self._pending.discard(path)
            self.progress.setVisible(bool(self._pending))
            self.busy_changed.emit(bool(self._pending))
        if measured.thumbnail is not None:
            self._thumbs[path] = QPixmap.fromImage(measured.thumbnail)
        return measured

    def accept_measured(self, path: str, measured: Measured) -> None:
        """Use a measurement made elsewhere (a script that has no event loop, e.g. screenshots)."""
        if measured.thumbnail is not None:
            self._thumbs[path] = QPixmap.fromImage(measured.thumbnail)
        self.document.remember_check(path, measured.check)

    async def _measure_current(self, path: str) -> None:
        measured = await self._measure(path)
        if measured is not None:
            self.document.remember_check(path, measured.check)

    def _show_message(self, text: str, *, error: bool) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
        set_style_name(self.message, "inlineError" if error else "inlineWarning")

    def _sync(self) -> None:
        ff = self.document.storyboard.first_frame
        has = ff is not None
        if self.drop_zone.property("hasImage") != has:  # a re-polish repaints: not on every keystroke
            self.drop_zone.setProperty("hasImage", has)
            self.drop_zone.style().unpolish(self.drop_zone)
            self.drop_zone.style().polish(self.drop_zone)
        self.stack.setCurrentIndex(1 if has else 0)
        if ff is None:
            return
        if ff.url is not None:
            self.thumbnail.setPixmap(icons.icon("link").pixmap(40, 40))
            self.name_label.setText(ff.url)
            self.facts_label.setText("Remote image · fetched by the service")
            return
        assert ff.path is not None
        self.name_label.setText(Path(ff.path).name)
        self.name_label.setToolTip(ff.path)
        check = self.document.known_check(ff.path)
        if check is None:
            # Opened from a project file: measure it now, in the background.
            if ff.path not in self._pending:
                self.tasks.spawn(self._measure_current(ff.path))
            self.facts_label.setText("Reading…")
            self.thumbnail.clear()
            return
        thumb = self._thumbs.get(ff.path)
        if thumb is not None:
            self.thumbnail.setPixmap(thumb)
        else:
            self.thumbnail.setPixmap(icons.icon("image").pixmap(40, 40))
        if check.facts is not None:
            f = check.facts
            facts = f"{f.width}×{f.height} px · {f.ratio_text} · {f.format} · {_size_text(f.file_bytes)}"
            self.facts_label.setText(facts)
        errors, _ = self._judge(check)
        if errors:
            self._show_message(errors[0], error=True)
        elif check.read_error is not None:
            self.facts_label.setText(check.read_error.message)
