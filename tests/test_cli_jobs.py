"""``kling-studio submit``, ``jobs`` and ``resume`` in-process, against a real local server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from kling_studio.cli import main
from kling_studio.domain.project_file import dumps_project
from kling_studio.domain.storyboard import GenerationSettings, Shot, Storyboard
from kling_studio.localapi.runner import LocalServer
from kling_studio.localapi.server import LocalServerConfig
from kling_studio.services.job_engine import POLL_SCALE_ENV
from kling_studio.services.settings import AppSettings, save_settings


def write_project(folder: Path, name: str = "Rain", seconds: int = 3) -> Path:
    board = Storyboard(
        title=name,
        shots=(Shot(text="rain runs down a window at night", duration=seconds),),
        settings=GenerationSettings(resolution="720p"),
    )
    path = folder / f"{name}.kling.json"
    path.write_text(dumps_project(board, str(folder)), encoding="utf-8")
    return path


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    monkeypatch.setenv(POLL_SCALE_ENV, "0.02")
    with LocalServer(LocalServerConfig(task_seconds=0.2, retry_after=0.05)) as srv:
        yield srv


def jobs_json(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    capsys.readouterr()
    assert main(["jobs", "--json"]) == 0
    data: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return data


def test_submit_wait_prints_ids_and_the_mp4_path_then_jobs_lists_it(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_project(tmp_path)
    out = tmp_path / "takes"
    code = main(["submit", str(project), "--wait", "--out", str(out), "--base-url", server.base_url])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    lines = captured.out.strip().splitlines()
    job_id = lines[0].split()[-1]
    task_id = lines[1].split()[-1]
    video = Path(lines[-1])
    assert video.parent == out and video.suffix == ".mp4"
    assert video.read_bytes()[4:8] == b"ftyp" and video.with_suffix(".json").is_file()
    assert "done" in captured.err  # progress goes to stderr

    (listed,) = jobs_json(capsys)
    assert listed["id"] == job_id and listed["task_id"] == task_id
    assert listed["state"] == "done" and listed["video_path"] == str(video)
    assert listed["title"] == "Rain" and listed["project"] == str(project.resolve())
    assert listed["progress"] == 100 and listed["estimated_cost_usd"] == pytest.approx(0.336)
    assert listed["error"] is None

    assert main(["jobs"]) == 0
    table = capsys.readouterr().out
    assert job_id[:8] in table and "done" in table and str(video) in table


def test_submit_without_wait_then_resume_wait_finishes_the_job(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_project(tmp_path)
    assert main(["submit", str(project), "--base-url", server.base_url]) == 0
    out = capsys.readouterr().out.split()
    assert out[0] == "job" and out[2] == "task"
    (listed,) = jobs_json(capsys)
    assert listed["state"] in ("submitted", "processing")

    assert main(["resume", "--wait"]) == 0
    resumed = capsys.readouterr().out
    assert str(listed["id"]) in resumed and "done" in resumed
    (listed,) = jobs_json(capsys)
    assert listed["state"] == "done"
    assert server.state.tasks_created_by_key == {k: 1 for k in server.state.tasks_created_by_key}
    assert len(server.state.created_tasks) == 1


def test_submit_local_starts_a_local_server_for_the_run_and_waits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(POLL_SCALE_ENV, "0.02")
    save_settings(AppSettings(task_seconds=0.2))
    out = tmp_path / "takes"
    assert main(["submit", str(write_project(tmp_path)), "--local", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "Local preview — no credits spent" in captured.err
    video = Path(captured.out.strip().splitlines()[-1])
    assert video.parent == out and video.read_bytes()[4:8] == b"ftyp"
    (listed,) = jobs_json(capsys)
    assert listed["backend"] == "local" and listed["state"] == "done" and listed["actual_cost_usd"] == 0.0


def test_resume_with_nothing_to_do_succeeds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["resume"]) == 0
    assert "no unfinished jobs" in capsys.readouterr().err


def test_an_invalid_storyboard_exits_1_with_the_compiler_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_project(tmp_path, seconds=40)
    assert main(["submit", str(project), "--base-url", "http://127.0.0.1:9"]) == 1
    assert "total_duration_out_of_range" in capsys.readouterr().err
    assert jobs_json(capsys) == []


def test_an_unreadable_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["submit", str(tmp_path / "missing.kling.json")]) == 2
    broken = tmp_path / "broken.kling.json"
    broken.write_text("{not json", encoding="utf-8")
    assert main(["submit", str(broken)]) == 2


def test_a_remote_failure_exits_3(server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    server.set_faults("fail=1")
    assert main(["submit", str(write_project(tmp_path)), "--wait", "--base-url", server.base_url]) == 3
    assert "failed" in capsys.readouterr().err


def test_needs_attention_exits_4_and_resume_checks_it_again(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.set_faults("500=1@submit")
    assert main(["submit", str(write_project(tmp_path)), "--wait", "--base-url", server.base_url]) == 4
    (listed,) = jobs_json(capsys)
    assert listed["state"] == "needs_attention" and listed["error"]
    assert main(["jobs"]) == 0
    table = capsys.readouterr().out
    assert "needs attention" in table and "needs_attention" not in table  # words in the table for people
    assert main(["resume", "--wait"]) == 0
    (listed,) = jobs_json(capsys)
    assert listed["state"] == "done"
    assert len(server.state.created_tasks) == 1
