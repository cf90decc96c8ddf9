"""The segment strip above the editor: one card per segment, the film's seconds and cost.

A card shows the segment's title, seconds, its take's middle frame and its state (no take,
generating, N takes, picked). Clicking a card (or Left/Right on a focused card) shows that
segment in the editor. With one segment the strip stays a single card and "Add segment", so
the single-storyboard workflow looks as before.
"""

from __future__ import annotations

import os
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from decimal import Decimal

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFocusEvent, QImage, QKeyEvent, QMouseEvent, QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QScrollArea, QToolButton, QVBoxLayout, QWidget

from kling_studio.domain.job_record import JobRecord
from kling_studio.domain.jobs import JobState
from kling_studio.domain.sequence import estimated_cost_usd, film_seconds
from kling_studio.ui.sequence_document import SequenceDocument
from kling_studio.ui.widgets import ElideWhenNarrow

THUMB = QSize(80, 45)
CACHE_SIZE = 48


def middle_frame(video: str, size: tuple[int, int] = (THUMB.width(), THUMB.height())) -> QImage | None:
    """Blocking (a worker thread): the frame halfway through ``video``, scaled down."""
    import av  # late: only a worker with a video to decode loads FFmpeg

    from kling_studio.ui.queue_thumbnails import frame_image

    try:
        image = frame_image(video, None)
        if image is None:
            return None
        image.thumbnail(size)
        rgb = image.convert("RGB")
        data = rgb.tobytes()
        return QImage(data, rgb.width, rgb.height, 3 * rgb.width, QImage.Format.Format_RGB888).copy()
    except (OSError, av.FFmpegError, IndexError) as exc:
        del exc
        return None


class MiddleFrames(QWidget):
    """Middle frames by (path, mtime), decoded on a worker thread; a small LRU of pixmaps.

    Results come back through a queue drained by a timer on the GUI thread (no cross-thread
    emit, see ui.queue_thumbnails), and only the GUI thread makes pixmaps."""

    ready = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hide()
        self._cache: OrderedDict[tuple[str, int], QPixmap | None] = OrderedDict()
        self._results: queue.SimpleQueue[tuple[tuple[str, int], QImage | None]] = queue.SimpleQueue()
        self._pending = 0
        self.decode: Callable[[str], QImage | None] = middle_frame
        self._timer = QTimer(self)
        self._timer.setInterval(40)
        self._timer.timeout.connect(self._collect)

    def pixmap(self, video: str) -> QPixmap | None:
        try:
            key = (os.path.abspath(video), os.stat(video).st_mtime_ns)
        except OSError:
            return None
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        self._cache[key] = None  # asked
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        self._pending += 1
        self._timer.start()
        threading.Thread(target=lambda: self._results.put((key, self._decode(key[0]))), daemon=True).start()
        return None

    def _decode(self, video: str) -> QImage | None:
        try:
            return self.decode(video)
        except Exception:  # a worker must always answer, or the card waits forever
            return None

    def wait(self, seconds: float = 10.0) -> None:
        """Tests: until every decode has come back."""
        import time

        end = time.monotonic() + seconds
        while self._pending and time.monotonic() < end:
            self._collect()
            time.sleep(0.01)

    def _collect(self) -> None:
        while True:
            try:
                key, image = self._results.get_nowait()
            except queue.Empty:
                break
            self._pending -= 1
            if key in self._cache:
                self._cache[key] = QPixmap.fromImage(image) if image is not None else None
            self.ready.emit(key[0])
        if not self._pending:
            self._timer.stop()


def segment_state(jobs: list[JobRecord], picked: bool) -> str:
    """The words on a card: picked, generating, N takes or no take."""
    done = sum(1 for j in jobs if j.state == JobState.DONE)
    running = any(not j.state.is_terminal for j in jobs)
    if running:
        return "generating…" if not done else f"generating… ({done} done)"
    if picked:
        return "picked"
    if done:
        return f"{done} take{'s' if done != 1 else ''}"
    return "no take"


class SegmentCard(QFrame):
    clicked = Signal(int)
    step = Signal(int)

    def __init__(self, index: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.index = index
        self.setObjectName("segmentCard")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFixedWidth(212)
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 4, 6, 4)
        row.setSpacing(6)
        self.thumb = QLabel()
        self.thumb.setFixedSize(THUMB)
        self.thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumb.setObjectName("segmentThumb")
        self.thumb.setStyleSheet("QLabel#segmentThumb { background: #202020; color: #aaa; border-radius: 3px; }")
        row.addWidget(self.thumb)
        col = QVBoxLayout()
        col.setSpacing(0)
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: 600;")
        ElideWhenNarrow(self.title)  # a long title ends in "…", whole in the tooltip
        self.seconds = QLabel()
        self.state = QLabel()
        self.state.setObjectName("hint")
        for label in (self.title, self.seconds, self.state):
            col.addWidget(label)
        col.addStretch(1)
        row.addLayout(col, 1)

    def set_current(self, current: bool) -> None:
        if self.property("current") == current and self.styleSheet():
            return  # a new style sheet re-polishes the card and its labels (each keystroke refreshes)
        self.setProperty("current", current)
        colour = "palette(highlight)" if current else "palette(mid)"
        self.setStyleSheet(
            f"QFrame#segmentCard {{ border: 2px solid {colour}; border-radius: 6px; }}"
            # The focus ring: a thicker border, visible on the current (highlighted) card too.
            "QFrame#segmentCard:focus { border: 4px solid palette(highlight); }"
        )

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.setFocus(Qt.FocusReason.MouseFocusReason)
            self.clicked.emit(self.index)
        super().mousePressEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.modifiers() == Qt.KeyboardModifier.NoModifier and event.key() in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            self.step.emit(-1 if event.key() == Qt.Key.Key_Left else 1)
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.clicked.emit(self.index)
            return
        super().keyPressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        # Tabbing onto a card shows it; focus coming back from a menu or a dialog does not.
        if event.reason() in (Qt.FocusReason.TabFocusReason, Qt.FocusReason.BacktabFocusReason):
            self.clicked.emit(self.index)


JobsSource = Callable[[], list[JobRecord]]


class SegmentStrip(QWidget):
    """Cards in a horizontal scroll, the strip's buttons (bound to the window's actions), totals."""

    def __init__(self, sequence: SequenceDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sequence = sequence
        self.setObjectName("segmentStrip")
        self.setAccessibleName("Segments")
        self.jobs_source: JobsSource = list
        self.takes = 1
        self.prices: Mapping[str, Decimal | float | str] | None = None
        self.frames = MiddleFrames(self)
        self.frames.ready.connect(lambda _p: self.refresh())
        self.cards: list[SegmentCard] = []
        outer = QHBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(8)
        self.cards_area = QScrollArea()
        self.cards_area.setFrameShape(QFrame.Shape.NoFrame)
        self.cards_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the cards take focus, not their strip
        self.cards_area.setWidgetResizable(True)
        self.cards_area.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.cards_area.setFixedHeight(THUMB.height() + 14 + 14)
        inner = QWidget()
        self.row = QHBoxLayout(inner)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.row.setSpacing(6)
        self.row.addStretch(1)
        self.cards_area.setWidget(inner)
        outer.addWidget(self.cards_area, 1)
        side = QVBoxLayout()
        side.setSpacing(2)
        buttons = QHBoxLayout()
        buttons.setSpacing(2)
        self.add_button = QToolButton()
        self.add_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.duplicate_button = QToolButton()
        self.delete_button = QToolButton()
        self.left_button = QToolButton()
        self.right_button = QToolButton()
        for b in (self.add_button, self.duplicate_button, self.delete_button, self.left_button, self.right_button):
            buttons.addWidget(b)
        side.addLayout(buttons)
        self.totals = QLabel()
        self.totals.setObjectName("hint")
        self.totals.setAccessibleName("Film length and cost")
        side.addWidget(self.totals)
        side.addStretch(1)
        outer.addLayout(side)
        self._shown: tuple[object, ...] | None = None
        sequence.changed.connect(self._on_project_changed)
        sequence.current_changed.connect(lambda _i: self.refresh())
        self.refresh()

    def bind(self, add: object, duplicate: object, delete: object, left: object, right: object) -> None:
        """The window's actions drive the buttons (one command, one shortcut, one enabled state)."""
        for button, action in (
            (self.add_button, add),
            (self.duplicate_button, duplicate),
            (self.delete_button, delete),
            (self.left_button, left),
            (self.right_button, right),
        ):
            button.setDefaultAction(action)  # type: ignore[arg-type]
        self.add_button.setText("Add segment")
        for button in (self.duplicate_button, self.delete_button, self.left_button, self.right_button):
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)

    def card_jobs(self, index: int) -> list[JobRecord]:
        from kling_studio.services.sequence_takes import segment_of

        path = self.sequence.path
        if path is None:
            return []
        return [j for j in self.jobs_source() if segment_of(j, path) == index + 1]

    def _facts(self) -> tuple[object, ...]:
        """What the cards and totals show of the project (not the shots' text)."""
        project = self.sequence.project
        return (
            self.sequence.path,
            self.sequence.current,
            tuple(
                (s.title, s.total_duration, s.from_previous, s.pick, project.settings_of(i).resolution)
                for i, s in enumerate(project.segments)
            ),
        )

    def _on_project_changed(self) -> None:
        # Every keystroke in a shot changes the project; the strip shows none of the text, and a
        # refresh walks every job of the history per card (typing latency, issue #13).
        if self._facts() != self._shown:
            self.refresh()

    def refresh(self) -> None:
        from kling_studio.services.sequence_takes import segment_video

        self._shown = self._facts()
        project = self.sequence.project
        n = len(project.segments)
        while len(self.cards) < n:
            card = SegmentCard(len(self.cards))
            card.clicked.connect(self.sequence.show_segment)
            card.step.connect(self._step)
            self.row.insertWidget(len(self.cards), card)
            self.cards.append(card)
        while len(self.cards) > n:
            self.cards.pop().deleteLater()
        jobs = self.jobs_source()
        path = self.sequence.path
        for index, (card, segment) in enumerate(zip(self.cards, project.segments, strict=True)):
            card.title.setText(f"{index + 1}. {segment.title or 'Untitled'}")
            card.title.setToolTip(segment.title)
            chain = " · chained" if segment.from_previous else ""
            card.seconds.setText(f"{segment.total_duration} s{chain}")
            own = self.card_jobs(index)
            card.state.setText(segment_state(own, segment.pick is not None))
            video = segment_video(project, path, index, jobs) if path else segment.pick
            pixmap = self.frames.pixmap(video) if video else None
            if pixmap is not None:
                card.thumb.setPixmap(pixmap)
            else:
                words = "no take" if not video else "…"
                if card.thumb.text() != words or not card.thumb.pixmap().isNull():  # else: repaints for nothing
                    card.thumb.clear()
                    card.thumb.setText(words)
            card.set_current(index == self.sequence.current)
            card.setAccessibleName(f"Segment {index + 1}: {segment.title}, {card.state.text()}")
        seconds = film_seconds(project)
        cost = estimated_cost_usd(project, takes=self.takes, prices=self.prices)
        cost_text = f"${cost:.2f}" if cost is not None else "cost unknown"
        takes = f" × {self.takes} takes" if self.takes > 1 else ""
        self.totals.setText(f"Film {seconds} s · {cost_text}{takes}")
        single = n == 1
        for widget in (self.duplicate_button, self.delete_button, self.left_button, self.right_button):
            widget.setVisible(not single)
        self.totals.setVisible(not single)

    def focus_current(self) -> None:
        if self.cards:
            self.cards[self.sequence.current].setFocus(Qt.FocusReason.OtherFocusReason)

    def _step(self, step: int) -> None:
        target = self.sequence.current + step
        if 0 <= target < len(self.cards):
            self.sequence.show_segment(target)
            self.cards[target].setFocus(Qt.FocusReason.OtherFocusReason)
