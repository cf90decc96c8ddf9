"""Assembling takes into one cut, on real MP4s made with PyAV (H.264 with B-frames, AAC audio)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import opentimelineio as otio
import pytest
from PIL import Image

from kling_studio.services.sequence_assemble import AssembleError, AssembleInput, assemble

RATE = 24


def make_take(path: Path, take: int, frames: int, *, size: tuple[int, int] = (320, 240), audio: bool = True) -> Path:
    """Every frame says who it is: red = 40 × take, green = 8 × frame index."""
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=RATE)  # default preset: B-frames, reordered dts
        video.width, video.height, video.pix_fmt = size[0], size[1], "yuv420p"
        sound = container.add_stream("aac", rate=48_000) if audio else None
        for i in range(frames):
            frame = av.VideoFrame.from_image(Image.new("RGB", size, (40 * take, 8 * i, 128)))  # type: ignore[no-untyped-call]
            frame.pts = i
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if sound is not None:
            samples = round(frames / RATE * 48_000)
            done = 0
            while done < samples:
                count = min(1024, samples - done)
                chunk = av.AudioFrame(format="fltp", layout="stereo", samples=count)
                for plane in chunk.planes:
                    plane.update(bytes(plane.buffer_size))
                chunk.sample_rate, chunk.pts = 48_000, done
                for packet in sound.encode(chunk):
                    container.mux(packet)
                done += count
            for packet in sound.encode():
                container.mux(packet)
    return path


def identities(path: Path) -> list[tuple[int, int]]:
    """(take, frame index) of every decoded frame, read back from its colour."""
    found: list[tuple[int, int]] = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            r, g, _ = frame.to_image().convert("RGB").getpixel((frame.width // 2, frame.height // 2))  # type: ignore[no-untyped-call]
            found.append((round(r / 40), round(g / 8)))
    return found


def inputs(folder: Path, frames: list[int], **kwargs: object) -> list[AssembleInput]:
    result = []
    for take, count in enumerate(frames, start=1):
        options = kwargs.get(str(take), {})
        video = make_take(folder / f"take{take}.mp4", take, count, **options)  # type: ignore[arg-type]
        shots = (("first shot", 1), (f"shot two of {take}", 1)) if take != 2 else (("only shot", 1),)
        result.append(AssembleInput(str(video), f"Segment {take}", shots))
    return result


def expected(frames: list[int]) -> list[tuple[int, int]]:
    return [(take, i) for take, count in enumerate(frames, start=1) for i in range(count)]


def test_takes_of_one_format_are_remuxed_with_every_frame_once_audio_and_a_chapter_each(tmp_path: Path) -> None:
    frames = [10, 12, 14]
    result = assemble(inputs(tmp_path, frames), tmp_path / "cut.mp4", title="Film")
    assert result.remuxed and result.audio and result.segment_frames == (10, 12, 14)
    assert identities(result.video) == expected(frames)  # nothing lost, doubled or out of order
    with av.open(str(result.video)) as cut:
        assert cut.streams.audio, "the takes' sound is kept"
        audio = cut.streams.audio[0]
        assert audio.duration is not None and audio.time_base is not None
        assert float(audio.duration * audio.time_base) == pytest.approx(36 / RATE, abs=0.05)
        chapters = cut.chapters()
    assert [c["metadata"]["title"] for c in chapters] == ["Segment 1", "Segment 2", "Segment 3"]
    starts = [float(Fraction(c["start"]) * (c["time_base"] or 1)) for c in chapters]
    assert starts == pytest.approx([0, 10 / RATE, 22 / RATE], abs=0.001)  # MP4 keeps chapters in ms

    timeline = otio.adapters.read_from_file(str(tmp_path / "cut.otio"))
    assert timeline.name == "Film"
    clips = list(timeline.find_clips())
    assert [c.name for c in clips] == ["Segment 1", "Segment 2", "Segment 3"]
    assert [c.source_range.duration.to_frames() for c in clips] == frames
    assert [len(c.markers) for c in clips] == [2, 1, 2]
    assert clips[2].markers[1].name == "Shot 2: shot two of 3"
    assert clips[2].markers[1].marked_range.start_time.to_seconds() == 1.0
    assert timeline.duration().to_frames() == 36


def test_takes_of_different_sizes_are_re_encoded_to_the_first_takes_size(tmp_path: Path) -> None:
    frames = [8, 9, 10]
    items = inputs(tmp_path, frames, **{"2": {"size": (640, 480)}, "3": {"audio": False}})
    result = assemble(items, tmp_path / "cut.mp4")
    assert not result.remuxed and result.segment_frames == (8, 9, 10)
    assert identities(result.video) == expected(frames)
    with av.open(str(result.video)) as cut:
        video = cut.streams.video[0]
        assert (video.codec_context.width, video.codec_context.height) == (320, 240)
        assert video.average_rate == RATE
        assert cut.streams.audio  # the third take is silent, the others are not: silence fills in
        assert len(cut.chapters()) == 3


def test_a_file_that_is_not_a_video_is_refused_by_name_and_nothing_is_written(tmp_path: Path) -> None:
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video")
    good = make_take(tmp_path / "good.mp4", 1, 5)
    with pytest.raises(AssembleError, match=r"broken\.mp4"):
        assemble([AssembleInput(str(good), "A"), AssembleInput(str(bad), "B")], tmp_path / "cut.mp4")
    assert not (tmp_path / "cut.mp4").exists() and not list(tmp_path.glob(".*part"))
