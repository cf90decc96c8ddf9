"""The preview plays a real MP4, knows its length and frame rate, and marks the planned shot starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtMultimedia import QVideoFrame
from PySide6.QtWidgets import QStyle

from kling_studio.ui.preview_panel import PreviewPanel, time_text
from kling_studio.ui.preview_sample import write_sample_video

SHOTS = (1, 2, 1)  # planned starts at 0, 1 and 3 s; 4 s in all


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sample_video(tmp_path_factory.mktemp("clip") / "take.mp4", SHOTS, size=(160, 90), fps=24)


@pytest.fixture
def preview(qtbot) -> PreviewPanel:
    panel = PreviewPanel()
    qtbot.addWidget(panel)
    panel.resize(640, 400)
    panel.show()
    yield panel
    panel.unload()


def load(qtbot, preview: PreviewPanel, clip: Path) -> int:
    with qtbot.waitSignal(preview.duration_known, timeout=10_000) as known:
        preview.load(str(clip), [0, 1, 3])
    return known.args[0]


def test_loads_a_real_mp4_and_reports_its_duration_and_fps(qtbot, preview: PreviewPanel, clip: Path) -> None:
    duration = load(qtbot, preview, clip)
    assert abs(duration - 4000) <= 100
    assert preview.duration_ms() == duration
    assert preview.scrub.maximum() == duration
    qtbot.waitUntil(lambda: preview.fps() == pytest.approx(24.0), timeout=5000)
    assert preview.time_label.text().endswith(time_text(duration))


def test_decodes_frames_into_the_video_sink(qtbot, preview: PreviewPanel, clip: Path) -> None:
    frames: list[QVideoFrame] = []
    preview.video.videoSink().videoFrameChanged.connect(lambda f: frames.append(f))
    load(qtbot, preview, clip)
    qtbot.waitUntil(lambda: bool(frames), timeout=10_000)  # paused on the first frame, not black
    image = frames[-1].toImage()
    assert (image.width(), image.height()) == (160, 90)
    # Shot 1's card is dark blue (#1e3a8a): the decoded frame is the real picture, not a blank.
    colour = image.pixelColor(150, 10)
    assert colour.blue() > colour.red() + 40


def test_shot_markers_sit_at_the_planned_seconds(qtbot, preview: PreviewPanel, clip: Path) -> None:
    duration = load(qtbot, preview, clip)
    assert preview.scrub.marker_ms() == [0, 1000, 3000]
    positions = preview.scrub.marker_positions()
    assert [n for n, _x in positions] == [1, 2, 3]
    xs = [x for _n, x in positions]
    assert xs == sorted(xs) and len(set(xs)) == 3
    # Each marker is where the slider's handle centre sits at that time.
    for ms, x in zip((0, 1000, 3000), xs, strict=True):
        preview.scrub.setValue(ms)
        option = preview.scrub._option()
        handle = preview.scrub.style().subControlRect(
            QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, preview.scrub
        )
        assert abs(handle.center().x() - x) <= 1
    # Proportional: shot 3 starts three times as far along as shot 2.
    first, second, third = xs
    assert (third - first) == pytest.approx(3 * (second - first), abs=2)
    assert duration > 3000


def test_frame_step_moves_by_one_frame_and_space_toggles_play(qtbot, preview: PreviewPanel, clip: Path) -> None:
    load(qtbot, preview, clip)
    qtbot.waitUntil(lambda: preview.fps() == pytest.approx(24.0), timeout=5000)
    preview.player.setPosition(2000)
    qtbot.waitUntil(lambda: preview.player.position() == 2000, timeout=5000)
    assert preview.frame_index() == 47  # 2000 ms ends frame 47 (1958.3–2000 ms)
    preview.step_frames(1)
    qtbot.waitUntil(lambda: preview.frame_index() == 48, timeout=5000)
    assert preview.player.position() == 2001  # frame 48 starts at 2000 ms
    preview.step_frames(-2)
    qtbot.waitUntil(lambda: preview.frame_index() == 46, timeout=5000)
    assert preview.player.position() == 1917

    preview.activateWindow()
    qtbot.waitUntil(preview.isActiveWindow)
    preview.scrub.setFocus()
    qtbot.keyClick(preview.scrub, " ")
    qtbot.waitUntil(preview.is_playing, timeout=5000)
    qtbot.keyClick(preview.scrub, " ")
    qtbot.waitUntil(lambda: not preview.is_playing(), timeout=5000)


def test_loop_and_mute(qtbot, preview: PreviewPanel, clip: Path) -> None:
    load(qtbot, preview, clip)
    preview.action_loop.trigger()
    assert preview.player.loops() == preview.player.Loops.Infinite
    preview.action_mute.trigger()
    assert preview.audio.isMuted()
    preview.volume.setValue(30)
    assert preview.audio.volume() == pytest.approx(0.3, abs=0.01)


def test_autoplay_starts_playback_once_loaded(qtbot, preview: PreviewPanel, clip: Path) -> None:
    preview.load(str(clip), [0, 1, 3], autoplay=True)
    qtbot.waitUntil(preview.is_playing, timeout=10_000)
