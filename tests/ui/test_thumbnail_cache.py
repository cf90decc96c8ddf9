"""Thumbnails live in the XDG cache, keyed by the video's path and mtime; never beside the video."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

from kling_studio.services.paths import app_paths
from kling_studio.ui.queue_thumbnails import make_thumbnail, thumbnail_path
from tests.services.take_factory import make_take


def test_thumbnail_goes_to_the_cache_and_follows_the_mtime(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("KLING_STUDIO_HOME")  # the plain XDG layout, as on a user's machine
    out_dir = tmp_path / "out"  # a CLI --out folder
    out_dir.mkdir()
    video = make_take(out_dir / "take.mp4", [1], Fraction(24), size=(96, 64))
    first = make_thumbnail(str(video))
    assert first is not None
    assert Path(first).parent == Path(os.environ["XDG_CACHE_HOME"]) / "kling-studio" / "thumbnails"
    assert Path(first).parent == app_paths().cache_dir / "thumbnails"
    assert sorted(p.name for p in out_dir.iterdir()) == ["take.mp4"]
    stat = video.stat()
    os.utime(video, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    second = make_thumbnail(str(video))
    assert second is not None and second != first  # a re-rendered take never shows the old picture
    assert thumbnail_path(str(video)) == Path(second)


def test_a_missing_video_has_no_thumbnail(tmp_path: Path) -> None:
    assert make_thumbnail(str(tmp_path / "gone.mp4")) is None
    assert not (app_paths().cache_dir / "thumbnails").exists()
