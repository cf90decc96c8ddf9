"""``kling-studio compile`` on one-shot prompts: the prompt's 3072 limit, not a shot's 512, and a
one-shot text written in the shot syntax held to the storyboard's rules (a real process, real files)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SENTENCE = "A lighthouse keeper climbs the spiral stairs at dusk, lantern swinging, gulls wheeling outside. "


def prose(length: int) -> str:
    return (SENTENCE * (length // len(SENTENCE) + 1))[: length - 1] + "."


def compile_project(tmp_path: Path, text: str, seconds: int = 5, *extra: str) -> subprocess.CompletedProcess[str]:
    project = tmp_path / "one.kling.json"
    project.write_text(
        json.dumps(
            {
                "schema": 1,
                "title": "One shot",
                "settings": {
                    "model": "kling-3.0-turbo",
                    "resolution": "720p",
                    "aspect_ratio": "16:9",
                    "watermark": None,
                },
                "first_frame": None,
                "shots": [{"text": text, "duration": seconds}],
            }
        ),
        encoding="utf-8",
    )
    return subprocess.run(
        [sys.executable, "-m", "kling_studio", "compile", str(project), *extra],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_1500_character_prompt_compiles(tmp_path: Path) -> None:
    text = prose(1500)
    result = compile_project(tmp_path, text)
    assert result.returncode == 0, result.stderr
    assert result.stdout == text + "\n"
    assert "shot_text_too_long" not in result.stderr


@pytest.mark.parametrize(
    ("length", "exit_code", "code"), [(3072, 0, "prompt_over_recommended"), (3073, 1, "prompt_too_long")]
)
def test_the_prompt_limit_at_its_boundary(tmp_path: Path, length: int, exit_code: int, code: str) -> None:
    result = compile_project(tmp_path, prose(length), 5, "--json")
    assert result.returncode == exit_code
    data = json.loads(result.stdout)
    assert data["length"] == length
    found = [d["code"] for d in data["errors"] + data["warnings"]]
    assert found == [code]


def test_an_invalid_storyboard_written_in_one_shot_exits_1(tmp_path: Path) -> None:
    result = compile_project(tmp_path, "shot 1, 2, a girl; shot 2, 3, a dog;", 4, "--json")
    assert result.returncode == 1
    [error] = json.loads(result.stdout)["errors"]
    assert error["code"] == "invalid_duration" and error["shot"] == 1
    assert "add up to 5 s but the shot lasts 4 s" in error["message"]


def test_a_valid_storyboard_written_in_one_shot_compiles_with_a_warning(tmp_path: Path) -> None:
    result = compile_project(tmp_path, "shot 1, 2, a girl; shot 2, 3, a dog;", 5)
    assert result.returncode == 0
    assert result.stdout == "shot 1, 2, a girl; shot 2, 3, a dog;\n"
    assert "storyboard_in_text" in result.stderr
