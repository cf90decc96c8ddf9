"""Compare takes: two takes of one segment side by side, one transport, P picks.

Both players follow one transport: Play/Pause (Space) and the shared slider drive both; each
side shows the segment's shot markers on its own scrub bar. 1 and 2 choose a side, P picks the
chosen side's take (the Pick buttons do the same). QtMultimedia is imported here only, and this
module only when the dialog is first opened, so the window starts without it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtMultimedia import QMediaPlayer
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from kling_studio.domain.job_record import JobRecord
from kling_studio.ui.preview_scrub_bar import ShotMarkerSlider


def take_label(number: int, job: JobRecord) -> str:
    return f"Take {number} · {Path(job.video_path or '').name}"


class TakeSide(QFrame):
    """One side: which take, its picture, its scrub bar with the shot markers, Pick."""

    chosen = Signal()

    def __init__(self, name: str, shot_starts: list[int], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareSide")
        self.combo = QComboBox()
        self.combo.setAccessibleName(f"{name} take")
        self.video = QVideoWidget()
        self.video.setMinimumSize(320, 180)
        self.player = QMediaPlayer(self)
        self.player.setVideoOutput(self.video)
        self.scrub = ShotMarkerSlider()
        self.scrub.set_shot_starts(shot_starts)
        self.scrub.setAccessibleName(f"{name} position")
        self.pick_button = QPushButton(f"Pick {name.lower()}")
        self.picked = QLabel()
        self.picked.setObjectName("hint")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.combo)
        layout.addWidget(self.video, 1)
        layout.addWidget(self.scrub)
        row = QHBoxLayout()
        row.addWidget(self.picked, 1)
        row.addWidget(self.pick_button)
        layout.addLayout(row)
        self.player.durationChanged.connect(lambda d: self.scrub.setRange(0, max(d, 0)))
        self.player.positionChanged.connect(self._follow)
        self.scrub.sliderMoved.connect(self.player.setPosition)
        self.combo.activated.connect(lambda _i: self.chosen.emit())

    def _follow(self, position: int) -> None:
        if not self.scrub.isSliderDown():
            self.scrub.setValue(position)

    def load(self, path: str | None) -> None:
        self.player.setSource(QUrl.fromLocalFile(path) if path else QUrl())

    def set_active(self, active: bool) -> None:
        colour = "palette(highlight)" if active else "transparent"
        self.setStyleSheet(f"QFrame#compareSide {{ border: 2px solid {colour}; border-radius: 6px; }}")


class CompareTakesDialog(QDialog):
    """Shows ``takes`` (done jobs of one segment); ``on_pick(video)`` records the choice."""

    def __init__(
        self,
        title: str,
        takes: list[JobRecord],
        shot_starts: list[int],
        picked: str | None,
        on_pick: Callable[[str], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Compare takes — {title}")
        self.setObjectName("compareTakes")
        self.takes = takes
        self.on_pick = on_pick
        self.picked_video = picked
        self.left = TakeSide("Left", shot_starts)
        self.right = TakeSide("Right", shot_starts)
        self.sides = (self.left, self.right)
        self.active = 0
        for side_index, side in enumerate(self.sides):
            for number, job in enumerate(takes, start=1):
                side.combo.addItem(take_label(number, job), job.video_path)
            side.combo.setCurrentIndex(min(side_index, len(takes) - 1))
            side.combo.currentIndexChanged.connect(lambda _i, s=side: self._load(s))
            side.chosen.connect(lambda i=side_index: self.set_active(i))
            side.pick_button.clicked.connect(lambda _c=False, i=side_index: self.pick(i))
        pair = QHBoxLayout()
        pair.addWidget(self.left, 1)
        pair.addWidget(self.right, 1)
        self.play_button = QPushButton("Play")
        self.play_button.setAccessibleName("Play or pause both takes")
        self.position = QSlider(Qt.Orientation.Horizontal)
        self.position.setAccessibleName("Position of both takes")
        self.hint = QLabel("Space plays both · 1 / 2 choose a side · P picks it")
        self.hint.setObjectName("hint")
        transport = QHBoxLayout()
        transport.addWidget(self.play_button)
        transport.addWidget(self.position, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(pair, 1)
        layout.addLayout(transport)
        layout.addWidget(self.hint)
        self.play_button.clicked.connect(self.toggle_play)
        self.position.sliderMoved.connect(self.seek)
        self.left.player.durationChanged.connect(self._range)
        self.right.player.durationChanged.connect(self._range)
        self.left.player.positionChanged.connect(self._follow)
        self.pick_action = self._key("Pick", "P", lambda: self.pick(self.active))
        self._key("Play/Pause", "Space", self.toggle_play)
        self._key("Left side", "1", lambda: self.set_active(0))
        self._key("Right side", "2", lambda: self.set_active(1))
        for side in self.sides:
            self._load(side)
        self.set_active(0)
        self.resize(900, 480)

    def _key(self, text: str, key: str, slot: Callable[[], None]) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(key))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _load(self, side: TakeSide) -> None:
        side.load(side.combo.currentData())
        self._show_picked()

    def _range(self, _duration: int) -> None:
        longest = max(self.left.player.duration(), self.right.player.duration())
        self.position.setRange(0, max(longest, 0))

    def _follow(self, position: int) -> None:
        if not self.position.isSliderDown():
            self.position.setValue(position)

    def set_active(self, index: int) -> None:
        self.active = index
        for i, side in enumerate(self.sides):
            side.set_active(i == index)

    def is_playing(self) -> bool:
        return any(s.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState for s in self.sides)

    def toggle_play(self) -> None:
        """One transport: both play, or both pause, from the same position."""
        if self.is_playing():
            for side in self.sides:
                side.player.pause()
            self.play_button.setText("Play")
        else:
            at = self.left.player.position()
            for side in self.sides:
                side.player.setPosition(at)
                side.player.play()
            self.play_button.setText("Pause")

    def seek(self, position: int) -> None:
        for side in self.sides:
            side.player.setPosition(position)

    def video_of(self, index: int) -> str | None:
        data = self.sides[index].combo.currentData()
        return str(data) if data else None

    def pick(self, index: int) -> None:
        video = self.video_of(index)
        if video is None:
            return
        self.picked_video = video
        self.on_pick(video)
        self._show_picked()

    def _show_picked(self) -> None:
        for i, side in enumerate(self.sides):
            mine = self.picked_video is not None and self.video_of(i) == self.picked_video
            side.picked.setText("★ Picked" if mine else "")

    def done(self, result: int) -> None:
        for side in self.sides:
            side.player.stop()
        super().done(result)
