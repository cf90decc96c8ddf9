"""The one MP4 check: real files made with PyAV, cut, mislabelled or stripped of their video."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from kling_studio.services.video_probe import VideoDamaged, probe_video
from tests.services.test_hostile_support import make_mp4


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    make_mp4(folder / "sound.mp4", 3, audio=True)
    make_mp4(folder / "tail-moov.mp4", 3, faststart=False)
    make_mp4(folder / "four.mp4", 4, size=(96, 64), fps=30, noise=False)
    return {p.stem: p for p in folder.iterdir()}


def test_a_whole_video_reports_what_the_sidecar_records(clips: dict[str, Path]) -> None:
    probe = probe_video(clips["sound"], 3)
    assert probe.as_dict() == {"codec": "h264", "width": 160, "height": 120, "fps": 24.0, "duration": 3.0,
                               "audio": True}  # fmt: skip
    four = probe_video(clips["four"], 4)
    assert (four.width, four.height, four.fps, four.duration, four.audio) == (96, 64, 30.0, 4.0, False)


@pytest.mark.parametrize("expected", [2.0, 3.0, 4.0, None])
def test_the_length_may_differ_by_one_second_at_most(clips: dict[str, Path], expected: float | None) -> None:
    assert probe_video(clips["sound"], expected).duration == 3.0


@pytest.mark.parametrize("expected", [1.0, 5.0, 15.0])
def test_a_length_further_off_is_damaged(clips: dict[str, Path], expected: float) -> None:
    with pytest.raises(VideoDamaged, match=f"instead of the {expected:g} s"):
        probe_video(clips["sound"], expected)


@pytest.mark.parametrize("name", ["sound", "tail-moov"])
@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.999])
def test_a_file_cut_anywhere_is_damaged(clips: dict[str, Path], tmp_path: Path, name: str, fraction: float) -> None:
    data = clips[name].read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(VideoDamaged):
        probe_video(cut, 3)


def test_a_file_cut_by_one_byte_is_damaged(clips: dict[str, Path], tmp_path: Path) -> None:
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(clips["sound"].read_bytes()[:-1])
    with pytest.raises(VideoDamaged, match="cut short"):
        probe_video(cut, 3)


@pytest.mark.parametrize(
    "content", [b"", b"ok", b"<!DOCTYPE html><html>Link expired</html>", b"\x00\x00\x00\x18ftypisom" + bytes(5000)]
)
def test_what_is_not_a_video_is_damaged(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.mp4"
    path.write_bytes(content)
    with pytest.raises(VideoDamaged) as info:
        probe_video(path, 3)
    assert info.value.message.startswith("The downloaded video is damaged: ")


def test_an_mp4_without_a_video_stream_is_damaged(tmp_path: Path) -> None:
    path = tmp_path / "sound-only.mp4"
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=44100)
        for start in range(0, 44100 * 3, 1024):
            frame = av.AudioFrame(format="fltp", layout="mono", samples=1024)
            frame.planes[0].update(bytes(frame.planes[0].buffer_size))
            frame.sample_rate = 44100
            frame.pts = start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    with pytest.raises(VideoDamaged, match="no video stream"):
        probe_video(path, 3)


def test_a_missing_file_is_damaged_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(VideoDamaged, match="cannot be read"):
        probe_video(tmp_path / "gone.mp4", 3)
