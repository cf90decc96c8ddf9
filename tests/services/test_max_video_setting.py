"""The download cap: setting ``max_video_mb`` (default 2048), ``KLING_STUDIO_MAX_VIDEO_MB`` wins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kling_studio.services.settings import MAX_VIDEO_ENV, AppSettings, load_settings, save_settings

MIB = 1024 * 1024


def test_the_default_is_2048_mb() -> None:
    assert AppSettings().max_video_mb == 2048
    assert AppSettings().max_video_bytes() == 2048 * MIB


def test_the_setting_is_saved_and_loaded(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    save_settings(AppSettings(max_video_mb=300), path)
    assert json.loads(path.read_text(encoding="utf-8"))["max_video_mb"] == 300
    assert load_settings(path).max_video_bytes() == 300 * MIB


def test_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_VIDEO_ENV, "64")
    assert AppSettings(max_video_mb=300).max_video_bytes() == 64 * MIB


@pytest.mark.parametrize("value", ["lots", "1e9", "-5", "0", ""])
def test_a_bad_environment_value_falls_back_to_the_setting(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(MAX_VIDEO_ENV, value)
    assert AppSettings(max_video_mb=300).max_video_bytes() == 300 * MIB


@pytest.mark.parametrize("stored", [True, -1, 0])
def test_a_nonsense_setting_means_the_default(tmp_path: Path, stored: object) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"max_video_mb": stored}), encoding="utf-8")
    assert load_settings(path).max_video_bytes() == 2048 * MIB
