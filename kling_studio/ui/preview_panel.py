"""The preview dock: plays a take with the storyboard's planned shot starts on the scrub bar."""

from __future__ import annotations

import math
import os
from pathlib import Path

from PySide6.QtCore import QEvent, QSize, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtMultimedia import QAudioOutput, QMediaMetaData, QMediaPlayer
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kling_studio.ui import icons
from kling_studio.ui.preview_scrub_bar import ShotMarkerSlider
from kling_studio.ui.widgets import ElideWhenNarrow

DEFAULT_FPS = 24.0  # used until the file says otherwise (the local animatics are 24 fps)


def time_text(ms: int) -> str:
    """``m:ss.t`` — tenths matter when judging where a shot starts."""
    ms = max(0, ms)
    minutes, rest = divmod(ms, 60_000)
    return f"{minutes}:{rest // 1000:02d}.{rest % 1000 // 100}"


class PreviewPanel(QWidget):
    duration_known = Signal(int)  # milliseconds, once the loaded file's length is known
    load_failed = Signal(str)  # a plain-language reason

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._path: str | None = None
        self._autoplay = False
        self._fps = DEFAULT_FPS
        # Clicking the picture focuses the panel, so Space and the other keys reach its actions.
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Video preview")
        self._build_ui()
        self._connect()
        self._update_enabled()

    def _build_ui(self) -> None:
        self.player = QMediaPlayer(self)
        self.audio = QAudioOutput(self)
        self.player.setAudioOutput(self.audio)
        self.video = QVideoWidget()
        self.video.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.video.setMinimumSize(QSize(240, 135))
        self.player.setVideoOutput(self.video)
        self.placeholder = QLabel("Select a finished job to play it here.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setEnabled(False)
        self.screen_stack = QStackedWidget()
        self.screen_stack.addWidget(self.placeholder)
        self.screen_stack.addWidget(self.video)
        self.screen_stack.setStyleSheet("QStackedWidget { background: black; } QLabel { color: #9ca3af; }")

        self.scrub = ShotMarkerSlider()
        self.time_label = QLabel(f"{time_text(0)} / {time_text(0)}")
        self.time_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("00:00.0 / 00:00.0") + 8)
        self.time_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        self.action_play = self._action("Play", ("Space",), "Play or pause")
        # Frame steps look like frame steps (a bar and a triangle), with the editors' usual keys.
        self.action_back = self._action("Previous frame", (",", "Ctrl+Left"), "Previous frame")
        self.action_forward = self._action("Next frame", (".", "Ctrl+Right"), "Next frame")
        self.action_loop = self._action("Loop", ("Ctrl+L",), "Play again from the start when the clip ends")
        self.action_loop.setCheckable(True)
        self.action_mute = self._action("Mute", ("M",), "Mute or unmute")
        self.action_mute.setCheckable(True)
        self.action_open = self._action(
            "Open in system player", ("Ctrl+Shift+P",), "Open the video in the system's player"
        )
        self.action_folder = self._action("Show in folder", ("Ctrl+Shift+F",), "Open the folder holding the video")
        self._apply_icons()

        self.volume = QSlider(Qt.Orientation.Horizontal)
        self.volume.setRange(0, 100)
        self.volume.setValue(80)
        self.volume.setMaximumWidth(90)
        self.volume.setToolTip("Volume")
        self.audio.setVolume(0.8)

        controls = QHBoxLayout()
        controls.setSpacing(2)
        for action in (self.action_back, self.action_play, self.action_forward):
            controls.addWidget(self._button(action, icon_only=True))
        controls.addWidget(self.scrub, 1)
        controls.addWidget(self.time_label)
        controls.addWidget(self._button(self.action_loop))
        controls.addWidget(self._button(self.action_mute, icon_only=True))
        controls.addWidget(self.volume)
        links = QHBoxLayout()
        self.file_label = QLabel()
        self.file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # A long file name ends in "…" (whole in the tooltip) instead of widening the dock past
        # what a laptop screen leaves beside the editor.
        self._file_elide = ElideWhenNarrow(self.file_label)
        links.addWidget(self.file_label, 1)
        links.addWidget(self._button(self.action_open))
        links.addWidget(self._button(self.action_folder))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.screen_stack, 1)
        layout.addLayout(controls)
        layout.addLayout(links)

    def _action(self, text: str, shortcuts: tuple[str, ...], tip: str) -> QAction:
        action = QAction(text, self)
        if shortcuts:
            action.setShortcuts([QKeySequence(k) for k in shortcuts])
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            tip = f"{tip} ({QKeySequence(shortcuts[0]).toString(QKeySequence.SequenceFormat.NativeText)})"
        action.setToolTip(tip)
        self.addAction(action)
        return action

    def _apply_icons(self) -> None:
        """Theme-tinted SVGs (the style's media icons are faint in the light theme)."""
        if not hasattr(self, "action_folder"):  # a palette change while the panel is being built
            return
        playing = self.is_playing()
        self.action_play.setIcon(icons.icon("pause" if playing else "play"))
        self.action_back.setIcon(icons.icon("frame-back"))
        self.action_forward.setIcon(icons.icon("frame-forward"))
        self.action_loop.setIcon(icons.icon("loop"))
        self.action_mute.setIcon(icons.icon("volume-muted" if self.action_mute.isChecked() else "volume"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange):
            self._apply_icons()  # the theme changed: re-tint
        super().changeEvent(event)

    def _button(self, action: QAction, *, icon_only: bool = False) -> QToolButton:
        button = QToolButton()
        button.setDefaultAction(action)
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keep Space for play/pause, not "press button"
        button.setToolButtonStyle(
            Qt.ToolButtonStyle.ToolButtonIconOnly if icon_only else Qt.ToolButtonStyle.ToolButtonTextOnly
        )
        return button

    def _connect(self) -> None:
        self.action_play.triggered.connect(self.toggle_play)
        self.action_back.triggered.connect(lambda: self.step_frames(-1))
        self.action_forward.triggered.connect(lambda: self.step_frames(1))
        self.action_loop.toggled.connect(self.set_loop)
        self.action_mute.toggled.connect(self.audio.setMuted)
        self.action_mute.toggled.connect(lambda _m: self._apply_icons())
        self.action_open.triggered.connect(self.open_in_system_player)
        self.action_folder.triggered.connect(self.show_in_folder)
        self.volume.valueChanged.connect(lambda v: self.audio.setVolume(v / 100))
        self.scrub.sliderMoved.connect(self.player.setPosition)
        self.scrub.marker_clicked.connect(self.seek_to_shot)
        self.player.durationChanged.connect(self._on_duration)
        self.player.positionChanged.connect(self._on_position)
        self.player.playbackStateChanged.connect(self._on_playback_state)
        self.player.mediaStatusChanged.connect(self._on_media_status)
        self.player.errorOccurred.connect(self._on_error)

    # Public API.

    def load(
        self,
        path: str,
        shot_starts: list[int] | None = None,
        autoplay: bool = False,
        segment_starts_ms: list[int] | None = None,
    ) -> None:
        """Show ``path`` with markers at ``shot_starts`` (planned seconds); play once loaded if asked.

        Loading the file already shown does not reload it (Qt ignores the same source, so a
        "play once loaded" would never fire): it plays it, from the start if it had ended."""
        self.scrub.set_shot_starts(shot_starts)
        self.scrub.set_segment_starts_ms(segment_starts_ms)
        if path == self._path and self.player.mediaStatus() not in (
            QMediaPlayer.MediaStatus.NoMedia,
            QMediaPlayer.MediaStatus.InvalidMedia,
            QMediaPlayer.MediaStatus.LoadingMedia,
        ):
            if autoplay:
                self.play()
            return
        self._path = path
        self._autoplay = autoplay
        self._fps = DEFAULT_FPS
        planned = max(shot_starts or [0])
        self.scrub.setRange(0, planned * 1000 if planned else 0)  # until the file reports its length
        self.file_label.setText(Path(path).name)
        self.file_label.setToolTip(path)
        self.screen_stack.setCurrentWidget(self.video)
        self.player.setSource(QUrl.fromLocalFile(path))
        self._update_enabled()

    def unload(self) -> None:
        if not self.player.source().isEmpty():
            # Only a player that holds a file is stopped: calling into Qt's FFmpeg backend with
            # nothing loaded gains nothing and was seen to block on a mutex while closing.
            # With the player's signals held: a slot run from inside ``stop()`` (the play
            # button's icon) was seen to deadlock with the backend's threads (1 run in ~7 of
            # tests/ui/test_queue_end_to_end.py, and a window close under load). The panel
            # resets what those slots would have set itself, below.
            blocked = self.player.blockSignals(True)
            try:
                self.player.stop()
                self.player.setSource(QUrl())
            finally:
                self.player.blockSignals(blocked)
            self._on_playback_state(QMediaPlayer.PlaybackState.StoppedState)
            self.time_label.setText(f"{time_text(0)} / {time_text(0)}")
        self._path = None
        self.scrub.set_shot_starts(None)
        self.scrub.set_segment_starts_ms(None)
        self.scrub.setRange(0, 0)
        self.file_label.clear()
        self.screen_stack.setCurrentWidget(self.placeholder)
        self._update_enabled()

    def path(self) -> str | None:
        return self._path

    def duration_ms(self) -> int:
        return int(self.player.duration())

    def fps(self) -> float:
        return self._fps

    def is_playing(self) -> bool:
        return self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState

    def toggle_play(self) -> None:
        if self.is_playing():
            self.player.pause()
        else:
            self.play()

    def play(self) -> None:
        """Play; a clip resting on its last frame starts again from the top."""
        if self._path is None:
            return
        if self._at_end():
            self.player.setPosition(0)
        self.player.play()

    def seek_to_shot(self, number: int) -> None:
        """Show shot ``number``'s first frame (the frame at its planned start), exactly."""
        starts = self.scrub.marker_ms()
        if self._path is None or not 1 <= number <= len(starts):
            return
        index = round(starts[number - 1] / self._frame_ms())
        if self.duration_ms() > 0:
            index = min(index, self._last_frame_index())
        self.player.setPosition(self.frame_position(index))
        if not self.is_playing():
            self.player.pause()  # a stopped player does not render; paused shows the frame

    # Qt's FFmpeg backend shows, at position p, the frame whose time span (start, end] holds p:
    # a seek to a frame's exact start shows the frame before it (measured with 6.11.3). So a
    # frame is addressed one millisecond past its start.

    def frame_position(self, index: int) -> int:
        """The player position (ms) that shows frame ``index``."""
        return 0 if index <= 0 else math.floor(index * self._frame_ms()) + 1

    def frame_index(self, position: int | None = None) -> int:
        """The frame shown at ``position`` (default: now)."""
        pos = self.player.position() if position is None else position
        return 0 if pos <= 0 else max(0, math.ceil(pos / self._frame_ms()) - 1)

    def _frame_ms(self) -> float:
        return 1000.0 / self._fps

    def _last_frame_index(self) -> int:
        return max(0, round(self.duration_ms() / self._frame_ms()) - 1)

    def _last_frame_ms(self) -> int:
        return self.frame_position(self._last_frame_index())

    def _at_end(self) -> bool:
        status = self.player.mediaStatus()
        if status == QMediaPlayer.MediaStatus.EndOfMedia:
            return True
        return self.duration_ms() > 0 and self.frame_index() >= self._last_frame_index()

    def step_frames(self, frames: int) -> None:
        """Pause and move by whole frames at the file's frame rate."""
        if self._path is None:
            return
        self.player.pause()
        target = max(0, min(self._last_frame_index(), self.frame_index() + frames))
        self.player.setPosition(self.frame_position(target))

    def set_loop(self, enabled: bool) -> None:
        self.player.setLoops(QMediaPlayer.Loops.Infinite if enabled else QMediaPlayer.Loops.Once)
        if self.action_loop.isChecked() != enabled:
            self.action_loop.setChecked(enabled)

    def open_in_system_player(self) -> None:
        if self._path:
            QDesktopServices.openUrl(QUrl.fromLocalFile(self._path))

    def show_in_folder(self) -> None:
        if self._path:
            QDesktopServices.openUrl(QUrl.fromLocalFile(os.path.dirname(self._path)))

    # Player callbacks.

    def _on_duration(self, duration: int) -> None:
        if duration <= 0:
            return
        self.scrub.setRange(0, duration)
        self._update_time()
        rate = self.player.metaData().value(QMediaMetaData.Key.VideoFrameRate)
        if isinstance(rate, (int, float)) and rate > 0:
            self._fps = float(rate)
        self.duration_known.emit(duration)

    def _on_position(self, position: int) -> None:
        if not self.scrub.isSliderDown():
            self.scrub.setValue(position)
        self._update_time()

    def _on_media_status(self, status: QMediaPlayer.MediaStatus) -> None:
        if status == QMediaPlayer.MediaStatus.EndOfMedia:
            # Rest on the last frame, not black: step back one frame and pause there.
            if self.player.loops() == QMediaPlayer.Loops.Once and self.duration_ms() > 0:
                self.player.setPosition(self._last_frame_ms())
                self.player.pause()
            return
        if (
            status != QMediaPlayer.MediaStatus.LoadedMedia
            or self.player.playbackState() != QMediaPlayer.PlaybackState.StoppedState
        ):
            return
        if self._autoplay:
            self._autoplay = False
            self.player.play()
        else:
            self.player.pause()  # paused, not stopped: shows the first frame, and seeks and frame steps render

    def _on_playback_state(self, state: QMediaPlayer.PlaybackState) -> None:
        playing = state == QMediaPlayer.PlaybackState.PlayingState
        self.action_play.setIcon(icons.icon("pause" if playing else "play"))
        self.action_play.setText("Pause" if playing else "Play")

    def _on_error(self, _error: QMediaPlayer.Error, text: str) -> None:
        name = Path(self._path).name if self._path else "the video"
        self.file_label.setText(f"Cannot play {name}: {text}")
        self.load_failed.emit(f"Cannot play {name}: {text}. Try “Open in system player” or Show in folder.")

    def _update_time(self) -> None:
        self.time_label.setText(f"{time_text(int(self.player.position()))} / {time_text(self.duration_ms())}")

    def _update_enabled(self) -> None:
        loaded = self._path is not None
        for action in (
            self.action_play,
            self.action_back,
            self.action_forward,
            self.action_open,
            self.action_folder,
        ):
            action.setEnabled(loaded)
        self.scrub.setEnabled(loaded)


def save_demo_screenshot(path: str | Path) -> Path:
    """Render the preview with a generated take and its shot markers to a PNG; returns the path."""
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtMultimedia import QVideoFrame

    from kling_studio.ui.preview_sample import write_sample_video

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    shots = (2, 3, 2)
    video = write_sample_video(out.parent / "preview-demo-media" / "take.mp4", shots, size=(640, 360), fps=24)
    starts = [sum(shots[:i]) for i in range(len(shots))]
    panel = PreviewPanel()
    panel.resize(720, 500)
    panel.show()
    frames: list[QImage] = []

    def grab_frame(frame: QVideoFrame) -> None:
        if frame.isValid():
            frames.append(frame.toImage())

    loop = QEventLoop()
    panel.video.videoSink().videoFrameChanged.connect(grab_frame)
    panel.duration_known.connect(lambda _d: loop.quit())
    QTimer.singleShot(5000, loop.quit)
    panel.load(str(video), starts)
    loop.exec()
    QTimer.singleShot(500, loop.quit)  # the paused first frame
    loop.exec()
    panel.player.setPosition(3200)  # inside shot 2, so the handle sits between markers
    QTimer.singleShot(1000, loop.quit)
    loop.exec()
    image = panel.grab().toImage()
    if frames:  # QVideoWidget.grab() is blank offscreen: paint the last decoded frame where it sits
        painter = QPainter(image)
        target = panel.video.geometry().translated(panel.screen_stack.pos())
        frame = frames[-1].scaled(
            target.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
        painter.fillRect(target, Qt.GlobalColor.black)
        painter.drawImage(
            target.x() + (target.width() - frame.width()) // 2,
            target.y() + (target.height() - frame.height()) // 2,
            frame,
        )
        painter.end()
    image.save(str(out))
    panel.unload()
    panel.deleteLater()
    return out
