"""``kling-studio export``: a job id from the store (read-only) or a video with its sidecar, every format."""

from __future__ import annotations

import json
import os
import time
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest

from kling_studio.cli import main
from kling_studio.domain.job_record import JobRecord
from kling_studio.domain.jobs import JobState
from kling_studio.domain.project_file import storyboard_to_snapshot
from kling_studio.domain.storyboard import Shot, Storyboard
from kling_studio.services.downloads import sidecar_document
from kling_studio.services.job_store import JobStore
from kling_studio.services.paths import app_paths
from tests.services.take_factory import make_take

JOB_ID = "5e1f0c3a9b7d4e2f8a6b1c0d9e8f7a6b"


def record(video: Path | None) -> JobRecord:
    now = time.time()
    return JobRecord(
        id=JOB_ID,
        idempotency_key="k-" + JOB_ID,
        title="Night drive",
        project_path="/projects/night.kling.json",
        backend="local",
        state=JobState.DONE,
        mode="text-to-video",
        duration=3,
        resolution="720p",
        request={},
        storyboard=storyboard_to_snapshot(
            Storyboard(title="Night drive", shots=(Shot("東京の夜景", 1), Shot("Headlights sweep the wet road", 2)))
        ),
        created_at=now,
        updated_at=now,
        video_path=str(video) if video else None,
        estimated_cost_usd=0.34,
    )


@pytest.fixture
def take(tmp_path: Path) -> Path:
    return make_take(tmp_path / "20261203-101500_5e1f0c3a.mp4", [1, 2], Fraction(30000, 1001), audio=True)


@pytest.fixture
def stored_job(take: Path) -> JobRecord:
    store = JobStore(app_paths().job_store)
    job = record(take)
    store.insert(job)
    store.close()
    return job


@pytest.mark.parametrize("fmt", ["otio", "fcpxml", "edl", "pdf"])
def test_export_by_job_id(stored_job: JobRecord, tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / f"night.{fmt}"
    store = app_paths().job_store
    before = store.stat().st_mtime_ns
    assert main(["export", JOB_ID[:8], "--format", fmt, "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert out.stat().st_size > 0
    assert store.stat().st_mtime_ns == before  # looked up read-only
    if fmt == "edl":
        text = out.read_text(encoding="ascii")
        assert "FCM: DROP FRAME" in text and "K5E1F0C3" in text and "Dong Jing no Ye Jing" in text
    elif fmt == "pdf":
        assert out.read_bytes().startswith(b"%PDF-")
    else:
        clip = next(iter(otio.adapters.read_from_file(str(out)).find_clips()))
        assert len(clip.markers) == 2


def test_export_a_video_file_with_its_sidecar(take: Path, tmp_path: Path) -> None:
    take.with_suffix(".json").write_text(json.dumps(sidecar_document(record(take), None)), encoding="utf-8")
    out = tmp_path / "night.otio"
    assert main(["export", str(take), "--format", "otio", "-o", str(out)]) == 0
    timeline = otio.adapters.read_from_file(str(out))
    assert timeline.name == "Night drive"
    clip = next(iter(timeline.video_tracks()[0].find_clips()))
    assert [m.marked_range.start_time.value for m in clip.markers] == [0, 30]
    pdf = tmp_path / "night.pdf"
    assert main(["export", str(take), "--format", "pdf", "-o", str(pdf)]) == 0
    assert pdf.read_bytes().startswith(b"%PDF-")


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("no-such-job-id", "no job store"),
        ("short", "at least 8"),
    ],
)
def test_unreadable_take_exits_2(arg: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", arg, "--format", "edl", "-o", str(tmp_path / "x.edl")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.edl").exists()


def test_unknown_job_video_without_sidecar_and_undownloaded_job_exit_2(
    stored_job: JobRecord, take: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "ffffffff", "--format", "otio", "-o", str(tmp_path / "a.otio")]) == 2
    assert "No job 'ffffffff'" in capsys.readouterr().err
    assert main(["export", str(take), "--format", "otio", "-o", str(tmp_path / "b.otio")]) == 2
    assert "no sidecar" in capsys.readouterr().err
    store = JobStore(app_paths().job_store)
    store.insert(replace(record(None), id="0" * 32, idempotency_key="other", state=JobState.PROCESSING))
    store.close()
    assert main(["export", "00000000", "--format", "fcpxml", "-o", str(tmp_path / "c.fcpxml")]) == 2
    assert "no downloaded video" in capsys.readouterr().err
    assert not any(tmp_path.glob("[abc].*"))


def test_a_rate_final_cut_cannot_describe_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    video = make_take(tmp_path / "odd.mp4", [1], Fraction(12))
    video.with_suffix(".json").write_text(json.dumps(sidecar_document(record(video), None)), encoding="utf-8")
    assert main(["export", str(video), "--format", "fcpxml", "-o", str(tmp_path / "odd.fcpxml")]) == 1
    assert "Final Cut Pro XML cannot describe" in capsys.readouterr().err


def test_export_is_listed_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    assert "otio,fcpxml,edl,pdf" in capsys.readouterr().out
    assert os.environ.get("KLING_STUDIO_HOME")
