"""``kling-studio compile`` as a user runs it: a real process, real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PIL import Image

from kling_studio import __version__


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kling_studio", *args], capture_output=True, text=True, timeout=120, check=False
    )


def write(path: Path, shots: list[dict[str, object]], first_frame: object = None) -> Path:
    data = {
        "schema": 1,
        "title": "CLI",
        "settings": {"model": "kling-3.0-turbo", "resolution": "720p", "aspect_ratio": "16:9", "watermark": None},
        "first_frame": first_frame,
        "shots": shots,
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"kling-studio {__version__}"


def test_compile_prints_the_prompt(tmp_path: Path) -> None:
    f = write(tmp_path / "a.kling.json", [{"text": "a; b", "duration": 2}, {"text": "c", "duration": 1}])
    result = run("compile", str(f))
    assert result.returncode == 0
    assert result.stdout == "shot 1, 2, a, b; shot 2, 1, c;\n"
    assert "text_sanitized" in result.stderr


def test_compile_json(tmp_path: Path) -> None:
    f = write(tmp_path / "a.kling.json", [{"text": "a fox", "duration": 5}])
    result = run("compile", str(f), "--json")
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["prompt"] == "a fox" and data["length"] == 5
    assert data["mode"] == "text-to-video"
    assert data["request"] == {
        "model": "kling-3.0-turbo",
        "prompt": "a fox",
        "resolution": "720p",
        "duration": 5,
        "aspect_ratio": "16:9",
    }
    assert data["errors"] == [] and data["warnings"] == [] and data["estimated_cost_usd"] == 0.56


def test_invalid_storyboard_exits_1(tmp_path: Path) -> None:
    f = write(tmp_path / "a.kling.json", [{"text": "a", "duration": 16}])
    result = run("compile", str(f), "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["errors"][0]["code"] == "total_duration_out_of_range"


def test_unreadable_file_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "b.kling.json"
    bad.write_text("{nope", encoding="utf-8")
    result = run("compile", str(bad))
    assert result.returncode == 2
    assert "line 1, column 2" in result.stderr
    assert run("compile", str(tmp_path / "missing.kling.json")).returncode == 2


def test_local_first_frame_is_checked(tmp_path: Path) -> None:
    (tmp_path / "frames").mkdir()
    Image.new("RGB", (200, 200), "red").save(tmp_path / "frames" / "small.png")
    f = write(tmp_path / "a.kling.json", [{"text": "a", "duration": 5}], {"path": "frames/small.png"})
    result = run("compile", str(f), "--json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["mode"] == "image-to-video"
    assert [e["code"] for e in data["errors"]] == ["first_frame_too_small"]
    assert "first_frame_image" in data["request"] and "aspect_ratio" not in data["request"]
    missing = write(tmp_path / "m.kling.json", [{"text": "a", "duration": 5}], {"path": "frames/none.png"})
    assert json.loads(run("compile", str(missing), "--json").stdout)["errors"][0]["code"] == "first_frame_missing"
