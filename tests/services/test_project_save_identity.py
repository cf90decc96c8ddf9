"""Saving keeps the file's identity: permissions, symlinks, long names; bad text is a clear error."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from kling_studio.domain.sequence import Segment, SequenceProject
from kling_studio.domain.storyboard import GenerationSettings, Shot, Storyboard
from kling_studio.services.project_io import ProjectIOError, load_project, save_project
from kling_studio.services.sequence_io import save_sequence

BOARD = Storyboard(title="identity", shots=(Shot("a lighthouse at dusk", 5),))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.parametrize("mode", [0o644, 0o664, 0o600, 0o640])
def test_save_keeps_the_permission_bits(tmp_path: Path, umask_022: None, mode: int) -> None:
    f = tmp_path / "p.kling.json"
    f.write_text("{}", encoding="utf-8")
    f.chmod(mode)
    save_project(f, BOARD)
    assert _mode(f) == mode
    assert load_project(f).title == "identity"


def test_a_new_file_gets_the_umask_default_not_0600(tmp_path: Path, umask_022: None) -> None:
    f = tmp_path / "new.kling.json"
    save_project(f, BOARD)
    assert _mode(f) == 0o644


def test_save_writes_through_a_symlink(tmp_path: Path, umask_022: None) -> None:
    real = tmp_path / "store" / "real.kling.json"
    real.parent.mkdir()
    real.write_text("{}", encoding="utf-8")
    real.chmod(0o640)
    link = tmp_path / "link.kling.json"
    link.symlink_to(os.path.relpath(real, tmp_path))
    save_project(link, BOARD)
    assert link.is_symlink(), "the link was replaced by a copy"
    assert os.readlink(link) == os.path.relpath(real, tmp_path)
    assert load_project(real).title == "identity"
    assert _mode(real) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.kling.json", "store"]
    assert [p.name for p in real.parent.iterdir()] == ["real.kling.json"]


@pytest.mark.parametrize("length", [244, 250, 255])
def test_names_up_to_name_max_save(tmp_path: Path, length: int) -> None:
    name = "é" * ((length - len(".kling.json")) // 2)
    name += "x" * (length - len(".kling.json") - len(name.encode())) + ".kling.json"
    assert len(name.encode()) == length
    f = tmp_path / name
    save_project(f, BOARD)
    save_project(f, BOARD.with_title("again"))  # over an existing file: the temp name must fit too
    assert load_project(f).title == "again"
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_a_lone_surrogate_is_a_project_io_error_and_the_file_is_untouched(tmp_path: Path) -> None:
    f = tmp_path / "p.kling.json"
    save_project(f, BOARD)
    before = f.read_bytes()
    bad = Storyboard(title="ok", shots=(Shot("rain \ud800 falls", 5),))
    with pytest.raises(ProjectIOError) as info:
        save_project(f, bad)
    assert "shots[0].text" in info.value.message
    assert "surrogate" in info.value.message
    assert f.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["p.kling.json"]


def test_a_failed_save_through_a_symlink_leaves_the_target_byte_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tmp_path / "real.kling.json"
    save_project(real, BOARD)
    before = real.read_bytes()
    link = tmp_path / "link.kling.json"
    link.symlink_to(real.name)

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(ProjectIOError, match="No space left"):
        save_project(link, Storyboard(title="new", shots=(Shot("b", 3),)))
    monkeypatch.undo()
    assert real.read_bytes() == before
    assert link.is_symlink()
    assert json.loads(real.read_text(encoding="utf-8"))["title"] == "identity"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.kling.json", "real.kling.json"]


def _two_segments(text: str = "helmet on") -> SequenceProject:
    return SequenceProject(
        title="identity",
        settings=GenerationSettings(),
        segments=(
            Segment("Garage", (Shot("tyres roll", 3),)),
            Segment("Helmet", (Shot(text, 3),), from_previous=True),
        ),
    )


def test_a_sequence_save_keeps_the_file_identity_too(tmp_path: Path, umask_022: None) -> None:
    # The studio saves every project through the sequence layer: schema 2 must get the same care.
    new = tmp_path / "film.kling.json"
    save_sequence(new, _two_segments())
    assert _mode(new) == 0o644
    assert json.loads(new.read_text(encoding="utf-8"))["schema"] == 2
    real = tmp_path / "store" / "real.kling.json"
    real.parent.mkdir()
    real.write_text("{}", encoding="utf-8")
    real.chmod(0o640)
    link = tmp_path / "link.kling.json"
    link.symlink_to(real)
    save_sequence(link, _two_segments())
    assert link.is_symlink() and _mode(real) == 0o640
    before = real.read_bytes()
    with pytest.raises(ProjectIOError, match="lone surrogate"):
        save_sequence(link, _two_segments("helmet \ud800 on"))
    assert real.read_bytes() == before
