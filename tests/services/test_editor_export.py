"""Editor hand-off at every frame rate a take comes back in: real MP4s made with PyAV, a cut
detector that finds each shot's first frame by decoding, and every export read back by
OpenTimelineIO's own adapters (and pycmx for the EDL when installed)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest

from kling_studio.domain.job_record import JobRecord
from kling_studio.domain.jobs import JobState
from kling_studio.services.editor_export import EditorExportError, export_job, export_take, probe_video
from kling_studio.services.export_fcpxml import format_name
from tests.services.take_factory import detect_cuts, make_take

RATES = {
    "23.976": Fraction(24000, 1001),
    "24": Fraction(24),
    "25": Fraction(25),
    "29.97": Fraction(30000, 1001),
    "30": Fraction(30),
    "50": Fraction(50),
    "59.94": Fraction(60000, 1001),
    "60": Fraction(60),
}
SECONDS = [1, 2, 1]
SHOTS = [
    ("Dawn over a calm sea; the camera rises slowly", 1),
    ("東京の夜景", 2),
    ("A red car speeds along the coast road " * 5, 1),
]
DTD_PATH = Path(os.environ.get("KLING_FCPXML_DTD", Path(__file__).parent.parent / "data" / "FCPXMLv1_8.dtd"))


@pytest.fixture(scope="module", params=list(RATES), ids=list(RATES))
def rated_take(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Fraction, Path]:
    rate = RATES[request.param]
    # Every other rate carries sound, as real takes do; the rest are silent like old animatics.
    audio = list(RATES).index(request.param) % 2 == 0
    path = make_take(tmp_path_factory.mktemp("take") / f"take {request.param}.mp4", SECONDS, rate, audio=audio)
    return rate, path


def whole_frames(value: str, rate: Fraction) -> int:
    """An FCPXML time (``0s``, ``3s``, ``90090/30000s``) as frames; fails if it falls between frames."""
    seconds = Fraction(value.removesuffix("s"))
    frames = seconds * rate
    assert frames.denominator == 1, f"{value} is not a whole number of frames at {rate}"
    return int(frames)


def test_otio_markers_sit_on_the_detected_cuts(rated_take: tuple[Fraction, Path], tmp_path: Path) -> None:
    rate, take = rated_take
    cuts = detect_cuts(take)
    out = export_take(take, SHOTS, tmp_path / "t.otio", title="Coast road")
    timeline = otio.adapters.read_from_file(str(out))
    video = timeline.video_tracks()[0]
    clip = next(iter(video.find_clips()))
    assert clip.source_range is not None
    assert clip.source_range.duration.rate == pytest.approx(float(rate))
    assert clip.source_range.duration.value == len(_frames(take))
    assert [m.marked_range.start_time.value for m in clip.markers] == cuts
    assert all(m.marked_range.start_time.rate == pytest.approx(float(rate)) for m in clip.markers)
    assert clip.markers[1].metadata["kling_studio"]["text"] == "東京の夜景"
    assert len(timeline.audio_tracks()) == (1 if probe_video(take).has_audio else 0)  # type: ignore[union-attr]


def _frames(take: Path) -> list[int]:
    import av

    with av.open(str(take)) as container:
        return [1 for _ in container.decode(video=0)]


def test_fcpxml_times_are_whole_frames_and_markers_on_the_cuts(
    rated_take: tuple[Fraction, Path], tmp_path: Path
) -> None:
    rate, take = rated_take
    cuts = detect_cuts(take)
    out = export_take(take, SHOTS, tmp_path / "t.fcpxml")
    root = ET.parse(out).getroot()
    assert root.get("version") == "1.8"
    fmt = root.find("resources/format")
    assert fmt is not None
    assert whole_frames(fmt.get("frameDuration", ""), rate) == 1
    for element in root.iter():
        for attr in ("start", "duration", "offset", "tcStart"):
            if element.get(attr) is not None:
                whole_frames(element.get(attr, ""), rate)
    markers = root.findall(".//asset-clip/marker")
    assert [whole_frames(m.get("start", ""), rate) for m in markers] == cuts
    assert all(m.get("completed") is None for m in markers)  # plain markers, not to-do items
    clip = root.find(".//asset-clip")
    assert clip is not None
    assert whole_frames(clip.get("duration", ""), rate) == len(_frames(take))
    assert clip.get("tcFormat") == ("DF" if rate.denominator == 1001 and rate > 25 else "NDF")

    timeline = otio.adapters.read_from_file(str(out))  # OTIO's fcpx_xml adapter
    read = next(iter(timeline.find_clips()))
    assert [m.name for m in read.markers][1] == "Shot 2: 東京の夜景"
    if rate.denominator == 1:
        # The adapter keeps whole rates exactly; it truncates NTSC rates to integers (29.97 → 29),
        # which is why the frames above are checked on the file itself.
        assert [m.marked_range.start_time.value for m in read.markers] == cuts


def test_edl_read_back_by_otio_at_the_exact_frames(rated_take: tuple[Fraction, Path], tmp_path: Path) -> None:
    rate, take = rated_take
    cuts = detect_cuts(take)
    drop = rate.denominator == 1001 and rate > 25
    out = export_take(take, SHOTS, tmp_path / "t.edl", reel_id="3f9a0c1e5b7d4e2f9a1b2c3d4e5f6a7b")
    text = out.read_bytes().decode("ascii")
    lines = text.splitlines()
    assert lines[1] == ("FCM: DROP FRAME" if drop else "FCM: NON-DROP FRAME")
    assert all(len(line) <= 80 for line in lines)
    event = next(line for line in lines if line.startswith("001 "))
    assert (";" in event) == drop
    timeline = otio.adapters.read_from_string(text, "cmx_3600", rate=float(rate))
    clip = next(iter(timeline.video_tracks()[0].find_clips()))
    assert clip.source_range is not None
    assert clip.source_range.duration.value == len(_frames(take))
    assert clip.name == take.name
    locs = [line for line in lines if line.startswith("* LOC: ")]
    frames = [otio.opentime.from_timecode(line.split()[2], float(rate)).value for line in locs]
    assert frames == cuts
    if not drop:
        # The adapter's locator pattern only knows ``:``; drop-frame ``;`` locators are checked above.
        assert [m.marked_range.start_time.value for m in clip.markers] == cuts


def test_edl_reads_in_pycmx(rated_take: tuple[Fraction, Path], tmp_path: Path) -> None:
    pycmx = pytest.importorskip("pycmx", reason="pycmx is optional (pip install pycmx)")
    _rate, take = rated_take
    out = export_take(take, SHOTS, tmp_path / "t.edl", reel_id="job-abcdef123456")
    with open(out, encoding="ascii") as fh:
        edl = pycmx.parse_cmx3600(fh)
    edits = [edit for event in edl.events for edit in event.edits]
    assert len(edits) == 1
    assert edits[0].source == "KJOBABCD"
    assert edits[0].clip_name == take.name


def test_edl_transliterates_and_keeps_reels_apart(tmp_path: Path) -> None:
    take = make_take(tmp_path / "20261203-101500_aaaa.mp4", [1, 1], Fraction(24))
    a = export_take(take, [("東京の夜景", 1), ("Ελλάδα — Привет", 1)], tmp_path / "a.edl", reel_id="aaaa1111bbbb")
    b = export_take(take, [("x", 1), ("y", 1)], tmp_path / "b.edl", reel_id="cccc2222dddd")
    text = a.read_text(encoding="ascii")
    assert "Shot 1: Dong Jing no Ye Jing" in text
    assert "Shot 2: Ellada -- Privet" in text or "Shot 2: Ellada - Privet" in text
    reel_a = text.splitlines()[3].split()[1]
    reel_b = b.read_text(encoding="ascii").splitlines()[3].split()[1]
    assert (reel_a, reel_b) == ("KAAAA111", "KCCCC222")
    assert "20261203" not in reel_a


@pytest.mark.parametrize(
    ("size", "rate", "name"),
    [
        ((1280, 720), Fraction(24), "FFVideoFormat720p24"),
        ((1920, 1080), Fraction(30000, 1001), "FFVideoFormat1080p2997"),
        ((1920, 1080), Fraction(24000, 1001), "FFVideoFormat1080p2398"),
        ((1280, 720), Fraction(60000, 1001), "FFVideoFormat720p5994"),
        ((1920, 1080), Fraction(50), "FFVideoFormat1080p50"),
        ((720, 1280), Fraction(24), None),
        ((960, 960), Fraction(24), None),
    ],
)
def test_fcpxml_format_names_follow_final_cut(size: tuple[int, int], rate: Fraction, name: str | None) -> None:
    assert format_name(*size, rate) == name


def test_fcpxml_names_a_real_720p_take_and_ignores_ffprobe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    take = make_take(tmp_path / "hd.mp4", [1], Fraction(24), size=(1280, 720))
    with_tools = export_take(take, [("one", 1)], tmp_path / "a.fcpxml").read_text(encoding="utf-8")
    empty = tmp_path / "no-tools"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no ffprobe (nor anything else) on PATH
    without_tools = export_take(take, [("one", 1)], tmp_path / "b.fcpxml").read_text(encoding="utf-8")
    assert with_tools == without_tools
    assert 'name="FFVideoFormat720p24"' in with_tools
    assert 'width="1280" height="720"' in with_tools


def test_fcpxml_validates_against_the_dtd_it_declares(rated_take: tuple[Fraction, Path], tmp_path: Path) -> None:
    xmllint = shutil.which("xmllint")
    if xmllint is None:
        pytest.skip("xmllint is not installed (apt-get install libxml2-utils; make test installs it)")
    if not DTD_PATH.is_file():
        pytest.skip(
            f"Apple's FCPXML 1.8 DTD is not at {DTD_PATH} (set KLING_FCPXML_DTD; Final Cut Pro ships it as "
            "FCPXMLv1_8.dtd inside its Interchange framework)"
        )
    _rate, take = rated_take
    out = export_take(take, SHOTS, tmp_path / "t.fcpxml")
    result = subprocess.run([xmllint, "--noout", "--dtdvalid", str(DTD_PATH), str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_unreadable_video_falls_back_to_the_planned_duration(tmp_path: Path) -> None:
    missing = tmp_path / "not-downloaded.mp4"
    out = export_take(missing, [("one", 2), ("two", 3)], tmp_path / "plan.otio", fps=25)
    clip = next(iter(otio.adapters.read_from_file(str(out)).find_clips()))
    assert clip.source_range is not None
    assert clip.source_range.duration.value == 125
    assert clip.source_range.duration.rate == 25
    assert [m.marked_range.start_time.value for m in clip.markers] == [0, 50]


def test_format_can_be_chosen_explicitly_and_unknown_ones_are_refused(tmp_path: Path) -> None:
    take = make_take(tmp_path / "t.mp4", [1], Fraction(24))
    out = export_take(take, [("one", 1)], tmp_path / "timeline.txt", fmt="edl")
    assert out.read_text(encoding="ascii").startswith("TITLE:")
    with pytest.raises(EditorExportError, match="Unknown editor format"):
        export_take(take, [("one", 1)], tmp_path / "timeline.mov")


def test_fcpxml_refuses_a_rate_it_cannot_describe(tmp_path: Path) -> None:
    take = make_take(tmp_path / "t.mp4", [1], Fraction(12))
    with pytest.raises(EditorExportError, match=r"12\.000 fps"):
        export_take(take, [("one", 1)], tmp_path / "t.fcpxml")
    # .otio keeps the measured rate instead of pulling it to a neighbour in OTIO's table.
    clip = next(
        iter(otio.adapters.read_from_file(str(export_take(take, [("one", 1)], tmp_path / "t.otio"))).find_clips())
    )
    assert clip.source_range is not None
    assert clip.source_range.duration.rate == 12


def test_probe_reads_rate_size_frames_and_audio(tmp_path: Path) -> None:
    take = make_take(tmp_path / "t.mp4", [1, 1], Fraction(30000, 1001), audio=True)
    facts = probe_video(take)
    assert facts is not None
    assert (facts.width, facts.height, facts.frames, facts.has_audio) == (64, 36, 60, True)
    assert facts.fps == pytest.approx(29.97, abs=0.001)


def _record(video_path: str | None) -> JobRecord:
    now = time.time()
    return JobRecord(
        id="0123456789abcdef0123456789abcdef",
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


def test_export_job_uses_the_storyboard_snapshot_and_the_job_reel(tmp_path: Path) -> None:
    take = make_take(tmp_path / "t.mp4", SECONDS, Fraction(25))
    out = export_job(_record(str(take)), tmp_path / "job.edl")
    text = out.read_text(encoding="ascii")
    assert text.startswith("TITLE: Coast road\n")
    assert re.search(r"^001  K0123456 V ", text, re.MULTILINE)
    timeline = otio.adapters.read_from_file(str(export_job(_record(str(take)), tmp_path / "job.otio")))
    clip = next(iter(timeline.find_clips()))
    assert [m.marked_range.start_time.value for m in clip.markers] == [0, 25, 75]


def test_export_job_without_a_video_says_so(tmp_path: Path) -> None:
    with pytest.raises(EditorExportError, match="not been downloaded"):
        export_job(_record(None), tmp_path / "job.otio")
