"""The storyboard PDF, checked with poppler's tools (pdftotext, pdfimages, pdffonts, pdftoppm)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest
from PIL import Image

from kling_studio.domain.storyboard import FirstFrame, Shot, Storyboard
from kling_studio.services.storyboard_pdf import CJK_FONTS, export_storyboard_pdf
from tests.services.take_factory import COLOURS, make_take

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils is not installed (apt-get install poppler-utils)"
)
SHOTS = (
    Shot("Dawn over a calm sea; the official fishing fleet flows out of the harbour", 3),
    Shot("東京の夜景 — neon reflections in the rain", 4),
    Shot("The driver pulls on leather gloves " * 20, 3),
)


def run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def storyboard(tmp_path: Path, *, first_frame: Path | None = None, shots: tuple[Shot, ...] = SHOTS) -> Storyboard:
    return Storyboard(
        title="Coast road",
        shots=shots,
        first_frame=FirstFrame(path=str(first_frame)) if first_frame else None,
    )


def test_every_shots_words_are_real_text_without_ligatures(tmp_path: Path) -> None:
    if not any(Path(p).is_file() for p in CJK_FONTS):
        pytest.skip("no CJK font installed (apt-get install fonts-droid-fallback; make test installs it)")
    out = export_storyboard_pdf(
        storyboard(tmp_path), tmp_path / "sb.pdf", project_path="/p/coast.kling.json", date=dt.date(2026, 12, 3)
    )
    text = run("pdftotext", "-layout", str(out), "-")
    flat = " ".join(text.split())
    for shot in SHOTS:
        for word in shot.text.split():
            assert word in flat, word
    assert "ﬁ" not in text and "ﬂ" not in text  # no ligature glyphs: "official", "flows" stay searchable
    for expected in ("Coast road", "Shot 1", "0:00–0:03", "Shot 2", "0:03–0:07", "4 s", "10 s", "$1.12"):
        assert expected in flat, expected
    assert "coast.kling.json · 2026-12-03" in flat
    assert "Missing font" not in flat
    fonts = run("pdffonts", str(out))
    assert "DejaVuSans" in fonts


def test_a_missing_cjk_font_is_named_not_silent(tmp_path: Path) -> None:
    out = export_storyboard_pdf(storyboard(tmp_path), tmp_path / "sb.pdf", fallback_fonts=[])
    flat = " ".join(run("pdftotext", str(out), "-").split())
    assert "Missing font" in flat
    assert "U+6771" in flat  # 東
    assert "Noto Sans CJK" in flat
    assert "neon reflections in the rain" in flat


def test_stills_come_from_the_middle_of_each_shot_in_the_take(tmp_path: Path) -> None:
    take = make_take(tmp_path / "take.mp4", [3, 4, 3], Fraction(24), size=(320, 180))
    out = export_storyboard_pdf(storyboard(tmp_path), tmp_path / "sb.pdf", take=take)
    run("pdfimages", "-png", str(out), str(tmp_path / "img"))
    images = sorted(tmp_path.glob("img-*.png"))
    assert len(images) == 3
    for index, path in enumerate(images):
        with Image.open(path) as im:
            r, g, b = im.convert("RGB").resize((1, 1)).getpixel((0, 0))  # type: ignore[misc]
        expected = COLOURS[index]
        assert max(abs(r - expected[0]), abs(g - expected[1]), abs(b - expected[2])) < 30, (index, (r, g, b))


def test_a_cmyk_first_frame_is_embedded_as_rgb(tmp_path: Path) -> None:
    frame = tmp_path / "first.jpg"
    Image.new("CMYK", (400, 225), (0, 120, 200, 10)).save(frame)
    out = export_storyboard_pdf(storyboard(tmp_path, first_frame=frame), tmp_path / "sb.pdf")
    listing = run("pdfimages", "-list", str(out)).splitlines()[2:]
    assert len(listing) == 4  # the first frame and three animatic cards
    assert all(line.split()[5] == "rgb" for line in listing), listing
    assert "First frame" in run("pdftotext", str(out), "-")


def test_many_shots_flow_onto_more_pages_with_the_header_repeated(tmp_path: Path) -> None:
    shots = tuple(Shot(f"Shot text number {n} " + "with a good deal of detail " * 6, 2) for n in range(1, 10))
    out = export_storyboard_pdf(storyboard(tmp_path, shots=shots), tmp_path / "sb.pdf")
    pages = int(next(line.split()[-1] for line in run("pdfinfo", str(out)).splitlines() if line.startswith("Pages:")))
    assert pages >= 2
    for page in range(1, pages + 1):
        text = run("pdftotext", "-f", str(page), "-l", str(page), str(out), "-")
        assert "Coast road" in text and "18 s" in text and f"page {page}/{pages}" in text
    flat = " ".join(run("pdftotext", str(out), "-").split())
    assert all(f"Shot text number {n}" in flat for n in range(1, 10))
