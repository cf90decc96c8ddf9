"""Editor hand-off: each export is read back with OpenTimelineIO and checked for the clip,
its duration and a marker at every planned shot start."""

from __future__ import annotations

import time
from pathlib import Path

import av
import opentimelineio as otio
import pytest
from PIL import Image

from kling_studio.domain.job_record import JobRecord
from kling_studio.domain.jobs import JobState
from kling_studio.services.editor_export import EditorExportError, export_job, export_take, probe_video

FPS = 24
SHOTS = [
    ("Dawn over a calm sea; the camera rises slowly", 1),
    ("The driver pulls on leather gloves, 司机 smiles", 1),
    ("A red car speeds along the coast road " * 5, 1),
]
PLANNED_STARTS = [0.0, 1.0, 2.0]


def make_mp4(path: Path, seconds: int = 3, fps: int = FPS, size: tuple[int, int] = (160, 90)) -> Path:
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(seconds * fps):
            frame = av.VideoFrame.from_image(Image.new("RGB", size, (i * 3 % 256, 90, 160)))
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


@pytest.fixture(scope="module")
def take(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_mp4(tmp_path_factory.mktemp("take") / "my take.mp4")


def read_back(path: Path) -> otio.schema.Timeline:
    # EDL files do not say their rate: the reader has to be told.
    extra = {"rate": FPS} if path.suffix == ".edl" else {}
    timeline = otio.adapters.read_from_file(str(path), **extra)
    assert isinstance(timeline, otio.schema.Timeline)
    return timeline


@pytest.mark.parametrize("suffix", [".otio", ".fcpxml", ".edl"])
def test_round_trip_keeps_clip_duration_and_shot_markers(take: Path, tmp_path: Path, suffix: str) -> None:
    out = export_take(take, SHOTS, tmp_path / f"export{suffix}", title="Coast road")

    timeline = read_back(out)
    clips = list(timeline.find_clips())
    assert len(clips) == 1
    clip = clips[0]
    assert clip.name == take.name
    assert clip.source_range is not None
    assert clip.source_range.duration.to_seconds() == pytest.approx(3.0)
    assert clip.media_reference.target_url == take.absolute().as_uri()
    starts = [m.marked_range.start_time.to_seconds() for m in clip.markers]
    assert starts == pytest.approx(PLANNED_STARTS)
    names = [m.name for m in clip.markers]
    assert [n.split(":")[0].lower() for n in names] == ["shot 1", "shot 2", "shot 3"]
    assert "dawn over a calm sea" in names[0].lower()
    assert "driver pulls on leather gloves" in names[1].lower()


def test_otio_keeps_the_full_shot_text_and_the_available_range(take: Path, tmp_path: Path) -> None:
    timeline = read_back(export_take(take, SHOTS, tmp_path / "t.otio"))
    clip = next(iter(timeline.find_clips()))
    assert clip.media_reference.available_range.duration.to_seconds() == pytest.approx(3.0)
    texts = [m.metadata["kling_studio"]["text"] for m in clip.markers]
    assert texts == [text for text, _ in SHOTS]
    assert clip.markers[1].name == "Shot 2: The driver pulls on leather gloves, 司机 smiles"
    assert clip.markers[2].name.endswith("…")


def test_edl_markers_are_single_ascii_lines(take: Path, tmp_path: Path) -> None:
    out = export_take(take, SHOTS, tmp_path / "t.edl")
    raw = out.read_bytes()
    raw.decode("ascii")  # raises if anything non-ASCII slipped through
    locators = [line for line in raw.decode().splitlines() if line.startswith("* LOC:")]
    assert len(locators) == len(SHOTS)
    assert all(len(line) <= 90 for line in locators)


def test_fcpxml_format_has_a_frame_size_without_ffprobe(take: Path, tmp_path: Path) -> None:
    text = export_take(take, SHOTS, tmp_path / "t.fcpxml").read_text(encoding="utf-8")
    assert 'frameDuration="25/600s"' in text
    assert ('width="160"' in text and 'height="90"' in text) or "FFVideoFormat" in text
    assert 'name=""' not in text.split("<asset ")[0]


def test_unreadable_video_falls_back_to_the_planned_duration(tmp_path: Path) -> None:
    missing = tmp_path / "not-downloaded.mp4"
    out = export_take(missing, [("one", 2), ("two", 3)], tmp_path / "plan.otio", fps=25)
    clip = next(iter(read_back(out).find_clips()))
    assert clip.source_range is not None
    assert clip.source_range.duration.to_seconds() == pytest.approx(5.0)
    assert clip.source_range.duration.rate == 25
    assert [m.marked_range.start_time.to_seconds() for m in clip.markers] == [0.0, 2.0]


def test_format_can_be_chosen_explicitly_and_unknown_ones_are_refused(take: Path, tmp_path: Path) -> None:
    out = export_take(take, SHOTS, tmp_path / "timeline.txt", fmt="edl")
    assert out.read_text(encoding="ascii").startswith("TITLE:")
    with pytest.raises(EditorExportError, match="Unknown editor format"):
        export_take(take, SHOTS, tmp_path / "timeline.mov")


def test_fcpxml_refuses_a_rate_it_cannot_describe(take: Path, tmp_path: Path) -> None:
    with pytest.raises(EditorExportError, match="fps"):
        export_take(take, SHOTS, tmp_path / "t.fcpxml", fps=12)


def test_probe_reads_the_mp4(take: Path) -> None:
    facts = probe_video(take)
    assert facts is not None
    assert (facts.width, facts.height, facts.fps) == (160, 90, 24.0)
    assert facts.duration_s == pytest.approx(3.0)


def _record(video_path: str | None) -> JobRecord:
    now = time.time()
    return JobRecord(
        id="job-1",
        idempotency_key="k",
        title="Coast road",
        project_path=None,
        backend="local",
        state=JobState.DONE,
        mode="text-to-video",
        duration=3,
        resolution="720p",
        request={},
        storyboard={"shots": [{"text": text, "duration": seconds} for text, seconds in SHOTS]},
        created_at=now,
        updated_at=now,
        video_path=video_path,
    )


def test_export_job_uses_the_storyboard_snapshot(take: Path, tmp_path: Path) -> None:
    out = export_job(_record(str(take)), tmp_path / "job.fcpxml")
    timeline = read_back(out)
    assert timeline.name == "Coast road"
    clip = next(iter(timeline.find_clips()))
    assert [m.marked_range.start_time.to_seconds() for m in clip.markers] == PLANNED_STARTS


def test_export_job_without_a_video_says_so(tmp_path: Path) -> None:
    with pytest.raises(EditorExportError, match="not been downloaded"):
        export_job(_record(None), tmp_path / "job.otio")
