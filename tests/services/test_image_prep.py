"""Reading first frames with Pillow: odd, broken and hostile images give diagnostics, not crashes."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from kling_studio.domain.compiler import compile_storyboard
from kling_studio.domain.storyboard import FirstFrame, Shot, Storyboard
from kling_studio.services.image_prep import prepare_for_upload, read_first_frame


def save(img: Image.Image, path: Path, fmt: str, **kw: object) -> Path:
    img.save(path, fmt, **kw)
    return path


def codes_for(path: Path) -> tuple[list[str], list[str]]:
    board = Storyboard(shots=(Shot("a", 5),), first_frame=FirstFrame(path=str(path)))
    c = compile_storyboard(board, first_frame_check=read_first_frame(path))
    return [d.code for d in c.errors], [d.code for d in c.warnings]


def test_valid_png(tmp_path: Path) -> None:
    p = save(Image.new("RGB", (640, 360), "navy"), tmp_path / "a.png", "PNG")
    check = read_first_frame(p)
    assert check.facts is not None
    assert (check.facts.format, check.facts.width, check.facts.height) == ("PNG", 640, 360)
    assert codes_for(p) == ([], [])


def test_exif_orientation_is_applied_before_measuring(tmp_path: Path) -> None:
    img = Image.new("RGB", (800, 300), "green")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90°
    p = save(img, tmp_path / "r.jpg", "JPEG", exif=exif)
    facts = read_first_frame(p).facts
    assert facts is not None and (facts.width, facts.height) == (300, 800)
    prepared = prepare_for_upload(p)
    assert Image.open(io.BytesIO(prepared.data)).size == (300, 800)
    assert "EXIF" in " ".join(prepared.notes)


def test_webp_is_converted_with_a_warning(tmp_path: Path) -> None:
    p = save(Image.new("RGB", (500, 500), "red"), tmp_path / "a.webp", "WEBP")
    assert codes_for(p) == ([], ["first_frame_converted"])
    prepared = prepare_for_upload(p)
    assert prepared.content_type == "image/png" and prepared.filename == "a.png"
    assert Image.open(io.BytesIO(prepared.data)).format == "PNG"


@pytest.mark.parametrize(
    ("size", "code"), [((299, 500), "first_frame_too_small"), ((1000, 399), "first_frame_aspect_ratio")]
)
def test_rules_name_the_measured_value(tmp_path: Path, size: tuple[int, int], code: str) -> None:
    p = save(Image.new("RGB", size, "white"), tmp_path / "a.png", "PNG")
    errors, _ = codes_for(p)
    assert errors == [code]


def test_not_an_image(tmp_path: Path) -> None:
    p = tmp_path / "notes.png"
    p.write_text("hello")
    assert codes_for(p)[0] == ["first_frame_not_image"]


def test_truncated_image(tmp_path: Path) -> None:
    good = save(Image.effect_noise((600, 600), 50).convert("RGB"), tmp_path / "g.jpg", "JPEG")
    bad = tmp_path / "t.jpg"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    assert codes_for(bad)[0] == ["first_frame_truncated"]


def test_decompression_bomb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = save(Image.new("L", (2000, 2000)), tmp_path / "big.png", "PNG")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000_000)
    errors, _ = codes_for(p)
    assert errors == ["first_frame_decompression_bomb"]


def test_missing_and_directory(tmp_path: Path) -> None:
    assert codes_for(tmp_path / "nope.png")[0] == ["first_frame_missing"]
    assert codes_for(tmp_path)[0] == ["first_frame_not_image"]


def test_large_png_is_reencoded_under_the_upload_limit(tmp_path: Path) -> None:
    from kling_studio.domain.limits import KLING_3_TURBO

    small_limit = replace(KLING_3_TURBO, upload_max_bytes=1_000_000)
    gradient = Image.radial_gradient("L").resize((1500, 1500))
    noise = Image.effect_noise((1500, 1500), 12)
    picture = Image.merge("RGB", (gradient, ImageChops.add(gradient, noise, 2), noise))
    p = save(picture, tmp_path / "n.png", "PNG")
    assert p.stat().st_size > 1_000_000
    prepared = prepare_for_upload(p, small_limit)
    assert prepared.content_type == "image/jpeg"
    assert len(prepared.data) <= 1_000_000
    assert Image.open(io.BytesIO(prepared.data)).size == (1500, 1500)
