"""Title cards for the animatic: fonts, text wrapping and one picture per shot.

Everything here is drawn once per shot; the encoder then repeats the finished frame, which is
what keeps rendering several times faster than real time.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

# Well-separated dark tones: white text stays legible and neighbouring shots never share a colour,
# so every planned cut is visible.
SHOT_COLOURS: tuple[tuple[int, int, int], ...] = (
    (28, 58, 122),
    (128, 34, 44),
    (26, 104, 62),
    (96, 40, 128),
    (150, 92, 18),
    (18, 104, 116),
)
# A card shows at most this much text (a single-shot prompt may hold 3072 characters); beyond
# it the letters would be too small to read and wrapping would dominate the render time.
MAX_CARD_CHARS = 720
_TEXT = (245, 245, 245)
_MUTED = (205, 205, 215)

_FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",
    "/usr/local/share/fonts",
    "/Library/Fonts",
    "C:/Windows/Fonts",
)
_REGULAR = ("DejaVuSans.ttf", "Arial.ttf", "arial.ttf")
_BOLD = ("DejaVuSans-Bold.ttf", "Arial Bold.ttf", "arialbd.ttf")

# DejaVu has no Chinese, Japanese or Korean: text in those scripts is drawn with the first of
# these that is installed (each also covers Latin), instead of rows of empty boxes.
CJK_FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def needs_cjk(text: str) -> bool:
    return any(unicodedata.east_asian_width(ch) in ("W", "F") for ch in text)


@functools.cache
def cjk_font_path() -> str | None:
    return next((path for path in CJK_FONT_FILES if Path(path).is_file()), None)


def shot_colour(index: int) -> tuple[int, int, int]:
    return SHOT_COLOURS[index % len(SHOT_COLOURS)]


@functools.cache
def _font_path(bold: bool) -> str | None:
    for name in _BOLD if bold else _REGULAR:
        for folder in _FONT_DIRS:
            candidate = Path(folder) / name
            if candidate.is_file():
                return str(candidate)
        try:  # Pillow also looks in the platform's own font folders by name
            ImageFont.truetype(name, 10)
        except OSError:
            continue
        return name
    return None


@functools.cache
def load_font(size: int, bold: bool = False) -> Font:
    """A TrueType font when one is installed, else Pillow's built-in scalable font."""
    size = max(8, int(size))
    path = _font_path(bold) or (_font_path(False) if bold else None)
    if path is not None:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            pass
    return ImageFont.load_default(size=size)


@functools.cache
def _cjk_font(size: float) -> Font | None:
    path = cjk_font_path()
    if path is None:
        return None
    try:
        return ImageFont.truetype(path, max(8, int(size)))
    except OSError:
        return None


def _runs(text: str, font: Font) -> list[tuple[str, Font]]:
    """The text cut into runs, each with the font that has its glyphs (DejaVu, or the CJK font)."""
    cjk = _cjk_font(font.size) if isinstance(font, ImageFont.FreeTypeFont) and needs_cjk(text) else None
    if cjk is None:
        return [(text, font)]
    runs: list[tuple[str, Font]] = []
    for ch in text:
        face = cjk if needs_cjk(ch) else font
        if runs and runs[-1][1] is face:
            runs[-1] = (runs[-1][0] + ch, face)
        else:
            runs.append((ch, face))
    return runs


def _text_width(draw: ImageDraw.ImageDraw, text: str, font: Font) -> float:
    return sum(draw.textlength(run, font=face) for run, face in _runs(text, font))


def draw_text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, font: Font, fill: object) -> None:
    """``draw.text`` with a per-run fallback to the CJK font, so no glyph becomes an empty box."""
    x, y = xy
    for run, face in _runs(text, font):
        draw.text((x, y), run, font=face, fill=fill)  # type: ignore[arg-type]
        x += draw.textlength(run, font=face)


def wrap_text(draw: ImageDraw.ImageDraw, text: str, font: Font, max_width: float) -> list[str]:
    """Greedy word wrap; words wider than a line (or unspaced CJK text) break between characters."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if _text_width(draw, candidate, font) <= max_width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = ""
            for ch in word:
                if line and _text_width(draw, line + ch, font) > max_width:
                    lines.append(line)
                    line = ""
                line += ch
        lines.append(line)
    return lines


@dataclass(frozen=True)
class FittedText:
    font: Font
    lines: list[str]
    line_height: int

    @property
    def height(self) -> int:
        return self.line_height * len(self.lines)


def fit_text(text: str, width: int, height: int, start_size: int, min_size: int) -> FittedText:
    """The largest font size (from ``start_size`` down) whose wrapped text fits the box."""
    if len(text) > MAX_CARD_CHARS:
        text = text[: MAX_CARD_CHARS - 1].rstrip() + "…"
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    size = start_size
    while True:
        font = load_font(size)
        lines = wrap_text(probe, text, font, width)
        line_height = int(size * 1.3)
        if line_height * len(lines) <= height or size <= min_size:
            max_lines = max(1, height // line_height)
            if len(lines) > max_lines:
                lines = [*lines[: max_lines - 1], lines[max_lines - 1].rstrip() + " …"]
            return FittedText(font, lines, line_height)
        size = max(min_size, int(size * 0.9))


@dataclass(frozen=True)
class CardInfo:
    """What one shot's card says."""

    number: int
    count: int
    seconds: int
    start: int
    total: int
    text: str
    title: str | None = None


def _clock(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


def _heading(info: CardInfo) -> tuple[str, str]:
    return (
        f"SHOT {info.number}/{info.count}",
        f"{info.seconds} s  ·  {_clock(info.start)}–{_clock(info.start + info.seconds)}",
    )


def draw_card(size: tuple[int, int], info: CardInfo) -> Image.Image:
    """A full-frame card: shot number, its seconds and time span, the wrapped text, a timeline."""
    width, height = size
    unit = min(width, height)
    margin = int(unit * 0.06)
    image = Image.new("RGB", size, shot_colour(info.number - 1))
    draw = ImageDraw.Draw(image)
    y = margin
    if info.title:
        title_font = load_font(int(unit * 0.032))
        draw_text(draw, (margin, y), info.title, title_font, _MUTED)
        y += int(unit * 0.05)
    head, span = _heading(info)
    head_font = load_font(int(unit * 0.085), bold=True)
    draw.text((margin, y), head, font=head_font, fill=_TEXT)
    y += int(unit * 0.105)
    draw.text((margin, y), span, font=load_font(int(unit * 0.042)), fill=_MUTED)
    y += int(unit * 0.08)
    timeline_h = int(unit * 0.02)
    box_h = height - y - margin - 2 * timeline_h
    fitted = fit_text(info.text or "(no text)", width - 2 * margin, box_h, int(unit * 0.05), int(unit * 0.02))
    for line in fitted.lines:
        draw_text(draw, (margin, y), line, fitted.font, _TEXT)
        y += fitted.line_height
    _draw_timeline(draw, info, (margin, height - margin - timeline_h, width - margin, height - margin))
    return image


def _draw_timeline(draw: ImageDraw.ImageDraw, info: CardInfo, box: tuple[int, int, int, int]) -> None:
    left, top, right, bottom = box
    total = max(info.total, 1)
    span = right - left
    x0 = left + span * info.start / total
    x1 = left + span * (info.start + info.seconds) / total
    draw.rectangle((left, top, right, bottom), outline=_MUTED, width=1)
    draw.rectangle((int(x0), top, int(x1), bottom), fill=_TEXT)


def draw_band(size: tuple[int, int], info: CardInfo) -> tuple[Image.Image, Image.Image, int]:
    """A caption band for a shot drawn over the first-frame image.

    Returns the band (RGB), its alpha mask and the y where it starts; pasting only the band
    region per frame is far cheaper than compositing whole frames.
    """
    width, height = size
    unit = min(width, height)
    margin = int(unit * 0.05)
    head, span = _heading(info)
    head_font = load_font(int(unit * 0.06), bold=True)
    fitted = fit_text(info.text or "", width - 2 * margin, int(height * 0.3), int(unit * 0.04), int(unit * 0.02))
    band_h = margin + int(unit * 0.09) + (fitted.height if info.text else 0) + margin
    band_h = min(band_h, height)
    band = Image.new("RGB", (width, band_h), (12, 12, 16))
    # The band is translucent but its text is opaque: draw the text into the mask as well.
    mask = Image.new("L", (width, band_h), 170)
    targets = ((ImageDraw.Draw(band), _TEXT), (ImageDraw.Draw(mask), 255))
    for draw, fill in targets:
        draw.text((margin, margin), f"{head}   {span}", font=head_font, fill=fill)
        y = margin + int(unit * 0.09)
        for line in fitted.lines if info.text else []:
            draw_text(draw, (margin, y), line, fitted.font, fill)
            y += fitted.line_height
    return band, mask, height - band_h
