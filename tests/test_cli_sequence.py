"""Sequences on the command line against real local servers: chained takes, picks, one cut."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import av
import opentimelineio as otio
import pytest
from PIL import Image, ImageChops, ImageStat

from kling_studio.cli import main
from kling_studio.domain.job_record import JobRecord
from kling_studio.domain.sequence import Segment, SequenceProject
from kling_studio.domain.sequence_file import dumps_sequence
from kling_studio.domain.storyboard import GenerationSettings, Shot
from kling_studio.localapi.runner import LocalServer
from kling_studio.localapi.server import LocalServerConfig
from kling_studio.services.job_engine import POLL_SCALE_ENV
from kling_studio.services.job_store import JobStore
from kling_studio.services.paths import app_paths
from kling_studio.services.sequence_frames import first_frame, last_frame
from kling_studio.services.settings import AppSettings, save_settings

LINE = re.compile(r"^segment (\d+) take (\d+): ([0-9a-f]{32}) (.+)$")
TEXTS = (
    ("a red car waits at a crossing", "the light turns green"),
    ("the car drives into a tunnel", "tail lights fade"),
    ("the tunnel opens onto the sea", "waves under the sun"),
)


def write_sequence(folder: Path, segments: int = 3, name: str = "Film") -> Path:
    """``segments`` segments of 3 s (two shots, 2 s + 1 s), each chained to the one before."""
    parts = tuple(
        Segment(
            name if segments == 1 else f"Part {i + 1}",
            (Shot(TEXTS[i][0], 2), Shot(TEXTS[i][1], 1)),
            from_previous=i > 0,
        )
        for i in range(segments)
    )
    project = SequenceProject(title=name, settings=GenerationSettings(resolution="720p"), segments=parts)
    path = folder / f"{name}.kling.json"
    path.write_text(dumps_sequence(project, str(folder)), encoding="utf-8")
    return path


def job_lines(out: str) -> dict[tuple[int, int], tuple[str, str]]:
    found: dict[tuple[int, int], tuple[str, str]] = {}
    for line in out.strip().splitlines():
        match = LINE.match(line)
        assert match, f"not a job line: {line!r}"
        found[(int(match[1]), int(match[2]))] = (match[3], match[4])
    return found


def difference(a: Image.Image, b: Image.Image, box: tuple[int, int, int, int] | None = None) -> float:
    """Mean absolute difference per channel value (0–255), optionally inside ``box``."""
    if box is not None:
        a, b = a.crop(box), b.crop(box)
    return float(sum(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean) / 3)


def changed_pixels(a: Image.Image, b: Image.Image, box: tuple[int, int, int, int]) -> int:
    """Pixels inside ``box`` that differ by more than 40 levels: text and colour do, codec noise does not."""
    gap = ImageChops.difference(a.convert("RGB").crop(box), b.convert("RGB").crop(box)).convert("L")
    return gap.point(lambda v: 255 if v > 40 else 0).histogram()[255]


def frames_at(path: Path, wanted: Iterable[int]) -> tuple[int, dict[int, Image.Image]]:
    """The frame count of the video stream and the decoded frames at the wanted indices."""
    keep = set(wanted)
    frames: dict[int, Image.Image] = {}
    count = 0
    with av.open(str(path)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index in keep:
                frames[index] = frame.to_image().convert("RGB")  # type: ignore[no-untyped-call]
            count = index + 1
    return count, frames


def store_jobs() -> list[JobRecord]:
    store = JobStore(app_paths().job_store)
    try:
        return store.all()
    finally:
        store.close()


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    monkeypatch.setenv(POLL_SCALE_ENV, "0.02")
    with LocalServer(LocalServerConfig(task_seconds=0.2, retry_after=0.05)) as srv:
        yield srv


def test_compile_json_of_a_sequence_checks_each_segment_and_totals_the_film(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_sequence(tmp_path)
    assert main(["compile", str(project), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"ok", "segments", "total_seconds", "estimated_cost_usd"}
    assert result["ok"] is True and result["total_seconds"] == 9
    assert result["estimated_cost_usd"] == pytest.approx(9 * 0.112)
    assert [s["mode"] for s in result["segments"]] == ["text-to-video", "image-to-video", "image-to-video"]
    assert set(result["segments"][1]) == {
        "ok", "prompt", "length", "mode", "request", "errors", "warnings", "estimated_cost_usd",
    }  # fmt: skip
    assert result["segments"][1]["request"]["first_frame_image"].startswith(str(tmp_path / "frames"))

    data = json.loads(project.read_text(encoding="utf-8"))
    data["segments"][2]["shots"][0]["duration"] = 14  # 15 s in all: fine; 16 s breaks the rule
    data["segments"][2]["shots"][1]["duration"] = 2
    project.write_text(json.dumps(data), encoding="utf-8")
    assert main(["compile", str(project), "--json"]) == 1
    broken = json.loads(capsys.readouterr().out)
    assert broken["ok"] is False and broken["segments"][0]["ok"] is True
    assert [e["code"] for e in broken["segments"][2]["errors"]] == ["total_duration_out_of_range"]

    del data["segments"][1]["shots"]
    project.write_text(json.dumps(data), encoding="utf-8")
    assert main(["compile", str(project)]) == 2
    assert "segments[1].shots" in capsys.readouterr().err


def test_a_one_segment_file_compiles_and_submits_exactly_as_today(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_sequence(tmp_path, segments=1)
    assert json.loads(project.read_text(encoding="utf-8"))["schema"] == 1
    assert main(["compile", str(project), "--json"]) == 0
    assert "prompt" in json.loads(capsys.readouterr().out)  # today's object, no "segments"
    assert main(["submit", str(project), "--wait", "--base-url", server.base_url]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0].startswith("job ") and out[1].startswith("task ") and out[2].endswith(".mp4")
    assert not list(app_paths().data_dir.glob("sequences/*.json"))  # no plan: today's path


def test_submit_local_chains_three_segments_by_their_last_frames_and_assemble_joins_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(POLL_SCALE_ENV, "0.02")
    save_settings(AppSettings(task_seconds=0.2))
    project = write_sequence(tmp_path)
    out = tmp_path / "takes"
    assert main(["submit", str(project), "--local", "--wait", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    lines = job_lines(captured.out)
    assert sorted(lines) == [(1, 1), (2, 1), (3, 1)]
    videos = [Path(lines[(k, 1)][1]) for k in (1, 2, 3)]
    assert all(v.parent == out and v.read_bytes()[4:8] == b"ftyp" for v in videos)

    for k in (2, 3):
        previous, chained = videos[k - 2], videos[k - 1]
        png = tmp_path / "frames" / f"Film.segment-{k}.{previous.stem}.png"
        assert png.is_file(), sorted(p.name for p in (tmp_path / "frames").iterdir())
        frame = Image.open(png)
        end = last_frame(previous)
        assert frame.format == "PNG" and frame.size == end.size == (1280, 720)  # full size
        assert difference(frame, end) == 0  # the last decoded frame, losslessly
        # The local server received that image: its animatic opens on it (the caption band aside).
        start = first_frame(chained)
        top = (0, 0, 1280, 360)
        assert difference(start, frame, top) < 3 and changed_pixels(start, frame, top) < 400
        assert changed_pixels(start, first_frame(previous), top) > 2000  # not merely any card

    cut = tmp_path / "cut.mp4"
    assert main(["assemble", str(project), "-o", str(cut)]) == 0
    assert capsys.readouterr().out.split() == [str(cut), str(tmp_path / "cut.otio")]
    counts = [frames_at(v, [])[0] for v in videos]
    joins = [counts[0], counts[0] + counts[1]]
    total, at = frames_at(cut, [j - 1 for j in joins] + joins)
    assert total == sum(counts) == 3 * 72
    for k, join in enumerate(joins):
        _, ends = frames_at(videos[k], [counts[k] - 1])
        assert difference(at[join - 1], ends[counts[k] - 1]) < 1  # the take's last frame, then
        assert difference(at[join], first_frame(videos[k + 1])) < 1  # the next take's first
        assert changed_pixels(at[join - 1], at[join], (0, 0, 1280, 720)) > 2000  # a cut, not a held frame
    with av.open(str(cut)) as container:
        chapters = container.chapters()
    assert [c["metadata"]["title"] for c in chapters] == ["Part 1", "Part 2", "Part 3"]
    timeline = otio.adapters.read_from_file(str(tmp_path / "cut.otio"))
    clips = list(timeline.find_clips())
    assert [c.name for c in clips] == ["Part 1", "Part 2", "Part 3"]
    assert [c.source_range.duration.value for c in clips] == counts
    assert [len(c.markers) for c in clips] == [2, 2, 2]
    assert [c.media_reference.target_url for c in clips] == [v.absolute().as_uri() for v in videos]


def test_takes_pick_and_a_single_segment_continue_from_the_pick(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_sequence(tmp_path, segments=2)
    out = tmp_path / "takes"
    base = ["--wait", "--out", str(out), "--base-url", server.base_url]
    assert main(["submit", str(project), "--takes", "2", *base]) == 0
    lines = job_lines(capsys.readouterr().out)
    assert sorted(lines) == [(1, 1), (1, 2), (2, 1), (2, 2)]
    jobs = {j.id: j for j in store_jobs()}
    assert len(jobs) == 4 and len({j.idempotency_key for j in jobs.values()}) == 4
    assert len(server.state.created_tasks) == 4
    assert all(server.state.tasks_created_by_key[j.idempotency_key] == 1 for j in jobs.values())
    first_takes = {lines[(1, t)][1] for t in (1, 2)}
    sources = {jobs[lines[(2, t)][0]].storyboard["sequence"]["source"] for t in (1, 2)}
    assert len(sources) == 1 and sources <= first_takes  # both continue from the same, first finished take

    picked_id, picked_video = lines[(1, 2)]
    data = json.loads(project.read_text(encoding="utf-8"))
    data["notes"], data["segments"][1]["mood"] = "for the client", "calm"  # keys of a newer version
    project.write_text(json.dumps(data, indent=2), encoding="utf-8")
    assert main(["pick", str(project), "--segment", "1", picked_id[:8]]) == 0
    saved = json.loads(project.read_text(encoding="utf-8"))
    assert saved["segments"][0]["pick"] == f"takes/{Path(picked_video).name}"  # relative: inside the folder
    assert saved["notes"] == "for the client" and saved["segments"][1]["mood"] == "calm"
    capsys.readouterr()

    assert main(["submit", str(project), "--segment", "2", *base]) == 0
    (again,) = job_lines(capsys.readouterr().out).items()
    assert again[0] == (2, 1)
    new_job = next(j for j in store_jobs() if j.id == again[1][0])
    assert new_job.storyboard["sequence"]["source"] == picked_video
    assert (tmp_path / "frames" / f"Film.segment-2.{Path(picked_video).stem}.png").is_file()

    assert main(["pick", str(project), "--segment", "2", again[1][1]]) == 0
    assert main(["assemble", str(project), "-o", str(tmp_path / "cut.mp4")]) == 0
    clips = list(otio.adapters.read_from_file(str(tmp_path / "cut.otio")).find_clips())
    assert [c.media_reference.target_url for c in clips] == [
        Path(picked_video).as_uri(),
        Path(again[1][1]).as_uri(),
    ]


def test_assemble_names_the_segment_without_a_take_and_pick_refuses_unknown_takes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_sequence(tmp_path, segments=2)
    assert main(["assemble", str(project), "-o", str(tmp_path / "cut.mp4")]) == 2
    assert "segment 1 (Part 1) has no take" in capsys.readouterr().err
    assert not (tmp_path / "cut.mp4").exists()
    before = project.read_bytes()
    assert main(["pick", str(project), "--segment", "1", "0123456789abcdef"]) == 2
    assert main(["pick", str(project), "--segment", "3", str(project)]) == 2
    assert "no segment 3" in capsys.readouterr().err
    assert project.read_bytes() == before


def test_a_chained_segment_alone_needs_a_take_of_the_previous_one(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_sequence(tmp_path, segments=2)
    code = main(["submit", str(project), "--segment", "2", "--wait", "--base-url", server.base_url])
    assert code == 2
    assert "segment 1, which has no take yet" in capsys.readouterr().err
    assert server.state.created_tasks == []
