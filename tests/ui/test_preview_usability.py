"""The preview behaves as people expect: Play plays, an ended clip rests on its last frame,
frame steps look and act like frame steps, and a click on a shot marker shows that shot's first frame.

Everything goes through real mouse clicks and key presses on the widgets; frames are read from
the video sink (``QVideoWidget.grab`` is blank).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtMultimedia import QMediaPlayer, QVideoFrame
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QToolButton

from kling_studio.ui.preview_panel import PreviewPanel
from kling_studio.ui.preview_sample import write_sample_video

SHOTS = (1, 2, 1)  # planned starts at 0, 1 and 3 s; 4 s in all
BLUE, GREEN, BROWN = QColor("#1e3a8a"), QColor("#065f46"), QColor("#7c2d12")  # shot 1, 2, 3 cards


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sample_video(tmp_path_factory.mktemp("clip") / "take.mp4", SHOTS, size=(160, 90), fps=24)


class Frames:
    """The frames the player hands to the screen, newest last."""

    def __init__(self, preview: PreviewPanel) -> None:
        self.images: list[QImage | None] = []
        preview.video.videoSink().videoFrameChanged.connect(self._on_frame)

    def _on_frame(self, frame: QVideoFrame) -> None:
        self.images.append(frame.toImage() if frame.isValid() else None)

    def last(self) -> QImage | None:
        return self.images[-1] if self.images else None


@pytest.fixture
def preview(qtbot) -> PreviewPanel:
    panel = PreviewPanel()
    qtbot.addWidget(panel)
    panel.resize(640, 400)
    panel.show()
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow)
    yield panel
    panel.unload()


def button_for(preview: PreviewPanel, action) -> QToolButton:
    return next(b for b in preview.findChildren(QToolButton) if b.defaultAction() is action)


def near(colour: QColor, expected: QColor, tolerance: int = 40) -> bool:
    return all(
        abs(a - b) <= tolerance
        for a, b in zip(
            (colour.red(), colour.green(), colour.blue()),
            (expected.red(), expected.green(), expected.blue()),
            strict=True,
        )
    )


def card_colour(image: QImage) -> QColor:
    return image.pixelColor(image.width() - 10, 10)  # top right: away from the caption and the bar


def bar_is_drawn(image: QImage) -> bool:
    """The white progress bar at the bottom spans the frame on a shot's last frame only."""
    colour = image.pixelColor(image.width() // 2, image.height() - 1)
    return colour.lightness() > 200


def load(qtbot, preview: PreviewPanel, clip: Path, autoplay: bool = False) -> None:
    with qtbot.waitSignal(preview.duration_known, timeout=10_000):
        preview.load(str(clip), [0, 1, 3], autoplay=autoplay)
    qtbot.waitUntil(lambda: preview.fps() == pytest.approx(24.0), timeout=5000)


def test_a_finished_clip_rests_on_its_last_frame_and_play_starts_it_again(qtbot, preview, clip) -> None:
    frames = Frames(preview)
    load(qtbot, preview, clip)
    play = button_for(preview, preview.action_play)
    QTest.mouseClick(play, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(preview.is_playing, timeout=5000)
    qtbot.waitUntil(lambda: not preview.is_playing(), timeout=10_000)  # it played to the end
    qtbot.waitUntil(lambda: frames.last() is not None and near(card_colour(frames.last()), BROWN), timeout=5000)
    last = frames.last()
    assert last is not None  # not black: the last frame of shot 3, its bar drawn full width
    assert bar_is_drawn(last)
    assert preview.player.playbackState() == QMediaPlayer.PlaybackState.PausedState
    assert preview.frame_index() == 4 * 24 - 1  # the last of 96 frames
    QTest.qWait(300)  # and it stays there
    assert frames.last() is not None and near(card_colour(frames.last()), BROWN)

    QTest.mouseClick(play, Qt.MouseButton.LeftButton)  # Play again: from the top
    qtbot.waitUntil(preview.is_playing, timeout=5000)
    qtbot.waitUntil(lambda: frames.last() is not None and near(card_colour(frames.last()), BLUE), timeout=5000)
    QTest.mouseClick(play, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not preview.is_playing(), timeout=5000)


def test_loading_the_file_already_shown_plays_it(qtbot, preview, clip) -> None:
    load(qtbot, preview, clip)  # shown paused, as when a row is selected
    assert not preview.is_playing()
    preview.load(str(clip), [0, 1, 3], autoplay=True)  # the queue's Play for the same take
    qtbot.waitUntil(preview.is_playing, timeout=5000)


def test_frame_step_buttons_look_like_frame_steps_and_answer_comma_and_period(qtbot, preview, clip) -> None:
    back, forward = button_for(preview, preview.action_back), button_for(preview, preview.action_forward)
    assert back.toolTip() == "Previous frame (,)"
    assert forward.toolTip() == "Next frame (.)"
    for button in (back, forward):
        assert not button.icon().isNull()
    # The frame-step glyphs are their own (bar + triangle), not the seek arrows of play/pause.
    assert back.icon().cacheKey() != forward.icon().cacheKey()
    load(qtbot, preview, clip)
    frames = Frames(preview)
    preview.player.setPosition(preview.frame_position(72))
    qtbot.waitUntil(lambda: preview.frame_index() == 72, timeout=5000)
    QTest.mouseClick(forward, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: preview.frame_index() == 73, timeout=5000)
    preview.setFocus()
    QTest.keyClick(preview, Qt.Key.Key_Comma)
    QTest.keyClick(preview, Qt.Key.Key_Comma)
    qtbot.waitUntil(lambda: preview.frame_index() == 71, timeout=5000)
    # Frame 71 is shot 2's last (its bar full width), frame 72 shot 3's first: the picture follows.
    qtbot.waitUntil(lambda: frames.last() is not None and bar_is_drawn(frames.last()), timeout=5000)
    assert near(card_colour(frames.last()), GREEN)
    QTest.keyClick(preview, Qt.Key.Key_Period)
    qtbot.waitUntil(lambda: preview.frame_index() == 72, timeout=5000)
    qtbot.waitUntil(lambda: frames.last() is not None and near(card_colour(frames.last()), BROWN), timeout=5000)
    assert not bar_is_drawn(frames.last())


@pytest.mark.parametrize(("number", "start_ms", "colour"), [(2, 1000, GREEN), (3, 3000, BROWN), (1, 0, BLUE)])
def test_clicking_a_marker_shows_that_shots_first_frame(qtbot, preview, clip, number, start_ms, colour) -> None:
    frames = Frames(preview)
    load(qtbot, preview, clip)
    preview.player.setPosition(2500)  # somewhere else first
    qtbot.waitUntil(lambda: preview.player.position() == 2500, timeout=5000)
    rect = next(r for n, r, _t in preview.scrub.label_layout() if n == number)
    frames.images.clear()
    QTest.mouseClick(preview.scrub, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center())
    qtbot.waitUntil(lambda: preview.frame_index() == start_ms * 24 // 1000, timeout=5000)
    qtbot.waitUntil(lambda: frames.last() is not None and near(card_colour(frames.last()), colour), timeout=5000)
    # Exactly the first frame: the shot's own card with its progress bar not yet drawn.
    assert not bar_is_drawn(frames.last())
    assert frames.last().pixelColor(0, 0) != QColor("black")


def test_marker_labels_never_overlap_and_collapse_to_numbers(qtbot, preview, tmp_path) -> None:
    video = write_sample_video(tmp_path / "six.mp4", (1, 1, 1, 1, 1, 1), size=(64, 36), fps=8)
    with qtbot.waitSignal(preview.duration_known, timeout=10_000):
        preview.load(str(video), [0, 1, 2, 3, 4, 5])

    def labels() -> tuple[list[tuple[int, object, str]], object]:
        QTest.qWait(20)
        return preview.scrub.label_layout(), preview.scrub.rect()

    preview.resize(1400, 400)
    wide, wide_rect = labels()
    assert [t for _n, _r, t in wide] == [f"Shot {n}" for n in range(1, 7)]
    preview.resize(preview.minimumSizeHint().width(), 400)
    narrow, narrow_rect = labels()
    assert narrow_rect.width() < wide_rect.width()
    assert [t for _n, _r, t in narrow] == [str(n) for n in range(1, 7)]
    for layout, bounds in ((wide, wide_rect), (narrow, narrow_rect)):
        rects = [r for _n, r, _t in layout]
        for a, b in itertools.pairwise(rects):
            assert a.right() < b.left(), (a, b)
        for r in rects:
            assert bounds.contains(r), (r, bounds)
    # A click on a nudged label still reaches its own shot.
    rect = narrow[4][1]
    QTest.mouseClick(preview.scrub, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center())
    qtbot.waitUntil(lambda: preview.frame_index() == 4 * 8, timeout=5000)  # shot 5 starts at 4 s


def test_a_long_file_name_ends_in_an_ellipsis_and_does_not_widen_the_dock(qtbot, preview, clip, tmp_path) -> None:
    """The file line under the player: a 120-character name keeps the panel's minimum width (the
    side dock beside the editor on a laptop) and shows "…" with the whole name in its tooltip."""
    load(qtbot, preview, clip)
    narrow = preview.minimumSizeHint().width()
    long_name = tmp_path / ("a-very-long-take-name-" * 5 + "final.mp4")
    long_name.write_bytes(clip.read_bytes())
    load(qtbot, preview, long_name)
    assert preview.minimumSizeHint().width() == narrow
    label = preview.file_label
    assert long_name.name in label.text()
    preview.resize(narrow, preview.height())
    qtbot.waitUntil(lambda: label.width() < label.fontMetrics().horizontalAdvance(label.text()), timeout=3000)
    label.repaint()
    assert label.toolTip() == label.text()  # the whole name, where "…" cut it
