"""``kling-studio serve-local`` as a real subprocess, and ``kling-studio animatic``."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
from pathlib import Path

import av
import httpx
import pytest
from PIL import Image

from kling_studio.cli import main

from .conftest import AUTH, png_bytes


def _first_line(process: subprocess.Popen[str], timeout: float = 20) -> str:
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    try:
        assert selector.select(timeout), "serve-local printed nothing"
        return process.stdout.readline().strip()
    finally:
        selector.close()


def test_serve_local_prints_its_url_then_serves_until_terminated(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "kling_studio", "serve-local", "--port", "0", "--task-seconds", "0"]
    command += ["--data-dir", str(tmp_path / "data"), "--faults", "object"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    try:
        url = _first_line(process)
        assert url.startswith("http://127.0.0.1:")
        assert not url.endswith(":0")
        schema = httpx.get(f"{url}/v1/model-schema", headers=AUTH, timeout=10)
        assert schema.status_code == 200
        answer = httpx.post(
            f"{url}/v1/videos/generations",
            json={"model": "kling-3.0-turbo", "prompt": "x", "duration": 3},
            headers={**AUTH, "Idempotency-Key": "cli"},
            timeout=10,
        ).json()
        assert isinstance(answer["data"], dict)
        stats = httpx.get(f"{url}/_local/stats", timeout=10).json()
        assert stats["tasks_created_by_key"] == {"cli": 1}
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err


def test_serve_local_refuses_a_bad_fault_spec() -> None:
    command = [sys.executable, "-m", "kling_studio", "serve-local", "--faults", "teapot=1"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "teapot" in done.stderr
    assert done.stdout == ""


def _project(folder: Path, first_frame: dict[str, str] | None = None, ratio: str = "16:9") -> Path:
    project = {
        "schema": 1,
        "title": "Rain",
        "settings": {"model": "kling-3.0-turbo", "resolution": "1080p", "aspect_ratio": ratio, "watermark": None},
        "first_frame": first_frame,
        "shots": [{"text": "a window", "duration": 2}, {"text": "a street", "duration": 1}],
    }
    path = folder / "rain.kling.json"
    path.write_text(json.dumps(project), encoding="utf-8")
    return path


def _video_facts(path: Path) -> tuple[int, int, int]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(video=0))
        return stream.width, stream.height, frames


def test_animatic_command_renders_a_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = _project(tmp_path, ratio="9:16")
    out = tmp_path / "out" / "rain.mp4"
    assert main(["animatic", str(project), "-o", str(out), "--resolution", "720p"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert _video_facts(out) == (720, 1280, 72)


def test_animatic_command_uses_a_relative_first_frame(tmp_path: Path) -> None:
    (tmp_path / "frame.png").write_bytes(png_bytes((600, 400)))
    project = _project(tmp_path, {"path": "frame.png"})
    assert main(["animatic", str(project), "--resolution", "720p", "--fps", "8"]) == 0
    out = tmp_path / "rain.animatic.mp4"
    assert _video_facts(out) == (1080, 720, 24)


def test_animatic_command_reports_unreadable_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.kling.json"
    broken.write_text("{", encoding="utf-8")
    assert main(["animatic", str(broken)]) == 2
    assert "broken.kling.json" in capsys.readouterr().err
    assert main(["animatic", str(tmp_path / "missing.kling.json")]) == 2


def test_animatic_command_reports_a_missing_first_frame(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = _project(tmp_path, {"path": "nowhere.png"})
    assert main(["animatic", str(project)]) == 1
    assert "nowhere.png" in capsys.readouterr().err
    assert not any(p.suffix == ".mp4" for p in tmp_path.iterdir())


def test_transparent_first_frame_renders(tmp_path: Path) -> None:
    Image.new("RGBA", (500, 500), (0, 0, 0, 0)).save(tmp_path / "frame.png")
    project = _project(tmp_path, {"path": "frame.png"})
    assert main(["animatic", str(project), "--resolution", "720p", "--fps", "4"]) == 0
