"""Project files: format, round trips, clear errors, and a file left untouched on failure."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kling_studio.domain.project_file import ProjectFileError, dumps_project, loads_project
from kling_studio.domain.storyboard import FirstFrame, GenerationSettings, Shot, Storyboard
from kling_studio.services.project_io import ProjectIOError, load_project, save_project

EXAMPLE = {
    "schema": 1,
    "title": "Pit lane",
    "settings": {"model": "kling-3.0-turbo", "resolution": "720p", "aspect_ratio": "16:9", "watermark": None},
    "first_frame": {"path": "frames/pit.png"},
    "shots": [
        {"text": "Mechanics roll slick tyres across the garage floor", "duration": 3},
        {"text": "The driver pulls on a black helmet", "duration": 2},
    ],
}


def test_example_round_trips_byte_for_byte(tmp_path: Path) -> None:
    text = json.dumps(EXAMPLE, indent=2, ensure_ascii=False) + "\n"
    f = tmp_path / "pit.kling.json"
    f.write_text(text, encoding="utf-8")
    board = load_project(f)
    assert board.title == "Pit lane"
    assert board.first_frame == FirstFrame(path=str(tmp_path / "frames" / "pit.png"))
    assert board.total_duration == 5
    save_project(f, board)
    assert f.read_text(encoding="utf-8") == text


def test_output_is_stable_pretty_utf8() -> None:
    board = Storyboard(title="雨", shots=(Shot("é 🌧", 3),), settings=GenerationSettings(watermark=True))
    text = dumps_project(board)
    assert text.endswith("}\n") and '\n  "title": "雨",' in text
    assert list(json.loads(text)) == ["schema", "title", "settings", "first_frame", "shots"]
    assert dumps_project(loads_project(text)) == text


def test_unknown_keys_survive(tmp_path: Path) -> None:
    data = json.loads(json.dumps(EXAMPLE))
    data["x_notes"] = {"keep": [1, 2]}
    data["settings"]["x_seed"] = 7
    data["shots"][0]["x_camera"] = "dolly"
    f = tmp_path / "a.kling.json"
    f.write_text(json.dumps(data), encoding="utf-8")
    save_project(f, load_project(f))
    again = json.loads(f.read_text(encoding="utf-8"))
    assert again["x_notes"] == {"keep": [1, 2]}
    assert again["settings"]["x_seed"] == 7
    assert again["shots"][0]["x_camera"] == "dolly"


def test_url_first_frame_and_absolute_paths(tmp_path: Path) -> None:
    board = Storyboard(title="u", shots=(Shot("a", 3),), first_frame=FirstFrame(url="https://x.example/f.png"))
    assert json.loads(dumps_project(board))["first_frame"] == {"url": "https://x.example/f.png"}
    elsewhere = tmp_path / "other" / "f.png"
    board = board.with_first_frame(FirstFrame(path=str(elsewhere)))
    f = tmp_path / "proj" / "p.kling.json"
    f.parent.mkdir()
    save_project(f, board)
    assert json.loads(f.read_text())["first_frame"] == {"path": "../other/f.png"}
    assert load_project(f).first_frame == FirstFrame(path=str(elsewhere))


CASES = {
    "corrupt": ('{"schema": 1, "title": "x",, }', "syntax", "line 1, column 28"),
    "truncated": (json.dumps(EXAMPLE)[:80], "syntax", "line 1"),
    "wrong_type": (json.dumps({**EXAMPLE, "shots": [{"text": "a", "duration": "3"}]}), "schema", "shots[0].duration"),
    "missing": (json.dumps({k: v for k, v in EXAMPLE.items() if k != "settings"}), "schema", "settings"),
    "bad_watermark": (
        json.dumps({**EXAMPLE, "settings": {**EXAMPLE["settings"], "watermark": "yes"}}),  # type: ignore[dict-item]
        "schema",
        "settings.watermark",
    ),
    "newer": (json.dumps({**EXAMPLE, "schema": 3}), "newer_schema", "newer version"),
    "sequence": (json.dumps({**EXAMPLE, "schema": 2}), "sequence", "several segments"),
    "not_object": ("[1, 2]", "schema", "an object"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_files_give_clear_errors_and_stay_unchanged(tmp_path: Path, case: str) -> None:
    text, kind, needle = CASES[case]
    f = tmp_path / "bad.kling.json"
    f.write_text(text, encoding="utf-8")
    before = f.read_bytes()
    with pytest.raises(ProjectFileError) as info:
        load_project(f)
    assert info.value.kind == kind
    assert needle in str(info.value)
    assert str(f) in str(info.value)
    assert f.read_bytes() == before


def test_fractional_duration_loads_and_the_compiler_flags_it(tmp_path: Path) -> None:
    from kling_studio.domain.compiler import compile_storyboard

    data = json.loads(json.dumps(EXAMPLE))
    data["shots"][0]["duration"] = 2.5
    board = loads_project(json.dumps(data))
    assert [d.code for d in compile_storyboard(board).errors] == ["shot_duration_invalid"]
    data["shots"][0]["duration"] = True
    with pytest.raises(ProjectFileError, match=r"shots\[0\]\.duration"):
        loads_project(json.dumps(data))


def test_syntax_error_has_line_and_column() -> None:
    with pytest.raises(ProjectFileError) as info:
        loads_project('{\n  "schema": 1,\n  "title": oops\n}')
    assert (info.value.line, info.value.column) == (3, 12)


def test_missing_file_is_an_io_error(tmp_path: Path) -> None:
    with pytest.raises(ProjectIOError, match="no such file"):
        load_project(tmp_path / "nope.kling.json")


def test_not_utf8(tmp_path: Path) -> None:
    f = tmp_path / "x.kling.json"
    f.write_bytes(b'{"title": "\xff"}')
    with pytest.raises(ProjectFileError, match="UTF-8"):
        load_project(f)


def test_failed_save_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "p.kling.json"
    f.write_text(json.dumps(EXAMPLE), encoding="utf-8")
    before = f.read_bytes()

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(ProjectIOError, match="No space left"):
        save_project(f, Storyboard(title="new", shots=(Shot("a", 3),)))
    monkeypatch.undo()
    assert f.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["p.kling.json"]
