"""The storyboard as a PDF a director would print, made without Qt (fpdf2), so the CLI works headless.

Each page repeats the header (title, settings, total seconds, cost); page 1 adds the first frame.
Each shot gets a still — the middle frame of that shot in the chosen take, or its animatic card
when there is no take — with its number, start–end time, seconds and full text. The footer names
the project file and the date.

Text is real text in embedded TrueType subsets (DejaVu Sans, plus a CJK fallback font when one is
installed), written without text shaping so no ligature glyph breaks search or copy. A character
that no installed font has is drawn as ``?`` and page 1 says which font is missing. Every picture
is converted to sRGB before it is embedded (a CMYK or ICC-tagged first frame included).

Blocking (PyAV decodes the take, Pillow draws cards): call from an executor on the event loop.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF
from PIL import Image, ImageCms, ImageOps

from kling_studio import __version__
from kling_studio.domain.compiler import estimate_cost_usd
from kling_studio.domain.job_record import JobRecord
from kling_studio.domain.limits import KLING_3_TURBO
from kling_studio.domain.project_file import storyboard_from_snapshot
from kling_studio.domain.storyboard import Storyboard, shot_start_times

log = logging.getLogger("kling_studio.storyboard_pdf")

_FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",
    "/usr/local/share/fonts",
    "/Library/Fonts",
    "C:/Windows/Fonts",
)
# Fonts for scripts DejaVu lacks (Chinese, Japanese, Korean), most complete first.
CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/Supplemental/Arial Unicode.ttf",
    "C:/Windows/Fonts/msyh.ttc",
)
CJK_HINT = "Noto Sans CJK (Debian/Ubuntu: fonts-noto-cjk, or fonts-droid-fallback)"
PAGE_W, PAGE_H, MARGIN = 210.0, 297.0, 15.0
STILL_W, STILL_MAX_H = 62.0, 58.0
CARD_SIZE_LONG = 640  # pixels of the long side of a drawn card or a still kept in the file


class StoryboardPdfError(ValueError):
    """The PDF cannot be made (no font at all, or the file cannot be written)."""


def _font_file(name: str) -> str | None:
    for folder in _FONT_DIRS:
        candidate = Path(folder) / name
        if candidate.is_file():
            return str(candidate)
    return None


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def to_srgb(image: Image.Image) -> Image.Image:
    """RGB in sRGB: ICC-tagged and CMYK pictures are converted, transparency flattened on white."""
    image = ImageOps.exif_transpose(image)
    icc = image.info.get("icc_profile")
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            srgb = ImageCms.createProfile("sRGB")
            mode = "RGB" if image.mode in ("RGB", "CMYK", "RGBA") else None
            if mode is not None and image.mode != "RGBA":
                converted = ImageCms.profileToProfile(image, source, srgb, outputMode=mode)
                if converted is not None:
                    image = converted
        except (OSError, ImageCms.PyCMSError) as exc:
            log.info("colour profile ignored: %s", exc)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    image = image.convert("RGB")
    image.info.pop("icc_profile", None)
    return image


def take_stills(
    video: str | os.PathLike[str], starts: Sequence[float], seconds: Sequence[float]
) -> list[Image.Image | None]:
    """The frame in the middle of each shot, decoded once from the start (takes are short)."""
    import av  # heavy; only needed with a take

    targets = [start + length / 2 for start, length in zip(starts, seconds, strict=True)]
    stills: list[Image.Image | None] = [None] * len(targets)
    try:
        with av.open(os.fspath(video)) as container:
            index = 0
            for frame in container.decode(video=0):
                when = frame.time if frame.time is not None else 0.0
                while index < len(targets) and when >= targets[index]:
                    stills[index] = frame.to_image()  # type: ignore[no-untyped-call]
                    index += 1
                if index >= len(targets):
                    break
    except (OSError, av.FFmpegError) as exc:
        log.info("no stills from %s: %s", video, exc)
    return stills


def card_stills(storyboard: Storyboard) -> list[Image.Image]:
    # The animatic's own card drawing (Pillow only), so a sheet without a take shows what the animatic shows.
    from kling_studio.localapi.cards import CardInfo, draw_card

    width, height = KLING_3_TURBO.output_size(storyboard.settings.resolution, storyboard.settings.aspect_ratio)
    scale = CARD_SIZE_LONG / max(width, height)
    size = (round(width * scale), round(height * scale))
    total = storyboard.total_duration
    starts = shot_start_times(storyboard.shots)
    return [
        draw_card(size, CardInfo(n, len(storyboard.shots), s.duration, start, total, s.text, storyboard.title))
        for n, (s, start) in enumerate(zip(storyboard.shots, starts, strict=True), start=1)
    ]


@dataclass(frozen=True)
class SheetInfo:
    project_name: str
    date: str
    cost_usd: float | None
    take_name: str | None


class _Sheet(FPDF):
    def __init__(self, storyboard: Storyboard, info: SheetInfo, fallback: Sequence[str]) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.storyboard = storyboard
        self.info = info
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN + 6)
        regular, bold = _font_file("DejaVuSans.ttf"), _font_file("DejaVuSans-Bold.ttf")
        if regular is None:
            raise StoryboardPdfError("No DejaVu Sans font is installed (Debian/Ubuntu: fonts-dejavu-core).")
        self.add_font("Sans", "", regular)
        self.add_font("Sans", "B", bold or regular)
        self.fallback_names: list[str] = []
        for number, path in enumerate(fallback):
            name = f"Fallback{number}"
            self.add_font(name, "", path)
            self.fallback_names.append(name)
        if self.fallback_names:
            self.set_fallback_fonts(self.fallback_names, exact_match=False)

    def covered(self, ch: str) -> bool:
        code = ord(ch)
        keys = ("sans", *(n.lower() for n in self.fallback_names))
        return any(code in getattr(self.fonts[key], "cmap", {}) for key in keys)

    def header(self) -> None:
        sb = self.storyboard
        self.set_font("Sans", "B", 16)
        self.cell(0, 8, sb.title, new_x="LMARGIN", new_y="NEXT")
        self.set_font("Sans", "", 9)
        self.set_text_color(90, 86, 112)
        settings = sb.settings
        cost = f"${self.info.cost_usd:.2f}" if self.info.cost_usd is not None else "no price"
        line = (
            f"{len(sb.shots)} shots · {sb.total_duration} s · {cost} · {sb.mode} · "
            f"{settings.resolution} {settings.aspect_ratio} · {settings.model}"
        )
        if self.info.take_name:
            line += f" · take {self.info.take_name}"
        self.multi_cell(0, 4.5, line, new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)
        self.set_draw_color(185, 178, 211)
        self.line(MARGIN, self.get_y() + 1.5, PAGE_W - MARGIN, self.get_y() + 1.5)
        self.ln(4)

    def footer(self) -> None:
        self.set_y(-MARGIN)
        self.set_font("Sans", "", 8)
        self.set_text_color(140, 136, 160)
        left = f"{self.info.project_name} · {self.info.date} · Kling Studio {__version__}"
        self.cell(0, 5, left, align="L")
        self.set_x(MARGIN)
        self.cell(0, 5, f"page {self.page_no()}/{{nb}}", align="R")


def _fallback_fonts() -> list[str]:
    return [path for path in CJK_FONTS if Path(path).is_file()][:1]


def export_storyboard_pdf(
    storyboard: Storyboard,
    out_path: str | os.PathLike[str],
    *,
    take: str | os.PathLike[str] | None = None,
    project_path: str | os.PathLike[str] | None = None,
    cost_usd: float | None = None,
    date: dt.date | None = None,
    fallback_fonts: Sequence[str] | None = None,
) -> Path:
    """Write the PDF; ``take`` gives the stills (else animatic cards); ``fallback_fonts`` overrides the CJK search."""
    if cost_usd is None:
        cost_usd = estimate_cost_usd(storyboard.total_duration, storyboard.settings.resolution)
    info = SheetInfo(
        project_name=Path(project_path).name if project_path else "unsaved project",
        date=(date or dt.date.today()).isoformat(),
        cost_usd=cost_usd,
        take_name=Path(take).name if take else None,
    )
    pdf = _Sheet(storyboard, info, _fallback_fonts() if fallback_fonts is None else fallback_fonts)
    pdf.set_title(storyboard.title)
    pdf.set_creator(f"Kling Studio {__version__}")
    pdf.set_subject("Storyboard")
    starts = shot_start_times(storyboard.shots)
    stills: list[Image.Image | None]
    if take is not None and Path(take).is_file():
        stills = take_stills(take, starts, [s.duration for s in storyboard.shots])
    else:
        stills = [None] * len(storyboard.shots)
    cards = card_stills(storyboard) if any(s is None for s in stills) else []
    missing = sorted({ch for ch in _all_text(storyboard) if not ch.isspace() and not pdf.covered(ch)})

    def clean(text: str) -> str:
        return "".join("?" if ch in missing else ch for ch in text)

    pdf.storyboard = storyboard.with_title(clean(storyboard.title))
    pdf.add_page()
    if missing:
        pdf.set_font("Sans", "B", 9)
        pdf.set_text_color(160, 60, 30)
        codes = ", ".join(f"U+{ord(ch):04X}" for ch in missing[:8]) + (", …" if len(missing) > 8 else "")
        pdf.multi_cell(
            0,
            4.5,
            f"Missing font: no installed font has {len(missing)} character(s) of this storyboard ({codes}); "
            f"they are shown as ?. Install {CJK_HINT}.",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.set_text_color(0, 0, 0)
        pdf.ln(2)
    _first_frame(pdf, storyboard)
    for number, (shot, start) in enumerate(zip(storyboard.shots, starts, strict=True), start=1):
        still = stills[number - 1] or cards[number - 1]
        _shot_row(pdf, number, clean(shot.text), start, shot.duration, to_srgb(still))
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        pdf.output(str(tmp))
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoryboardPdfError(f"Could not write {out}: {exc.strerror or exc}") from None
    return out


def _all_text(storyboard: Storyboard) -> str:
    return storyboard.title + "".join(shot.text for shot in storyboard.shots)


def _first_frame(pdf: _Sheet, storyboard: Storyboard) -> None:
    ff = storyboard.first_frame
    if ff is None:
        return
    pdf.set_font("Sans", "B", 10)
    pdf.cell(0, 6, "First frame", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Sans", "", 9)
    image = None
    if ff.path is not None:
        try:
            with Image.open(ff.path) as opened:
                opened.load()
                image = to_srgb(opened)
        except OSError:
            image = None
    if image is not None:
        width = min(90.0, 50.0 * image.width / image.height)
        height = width * image.height / image.width
        image.thumbnail((CARD_SIZE_LONG, CARD_SIZE_LONG))
        pdf.image(image, x=MARGIN, y=pdf.get_y(), w=width, h=height)
        pdf.set_y(pdf.get_y() + height + 1)
    pdf.multi_cell(0, 4.5, os.path.basename(ff.reference) if image is not None else f"Not found: {ff.reference}")
    pdf.ln(3)


def _shot_row(pdf: _Sheet, number: int, text: str, start: int, seconds: int, still: Image.Image) -> None:
    width = STILL_W
    height = width * still.height / still.width
    if height > STILL_MAX_H:
        height = STILL_MAX_H
        width = height * still.width / still.height
    text_x = MARGIN + STILL_W + 6
    text_w = PAGE_W - MARGIN - text_x
    pdf.set_font("Sans", "", 10)
    measured = pdf.multi_cell(text_w, 5, text or "(no text)", align="L", dry_run=True, output="HEIGHT")
    text_h = float(measured) if isinstance(measured, int | float) else 0.0
    row_h = max(height, 7 + text_h)
    if pdf.get_y() + min(row_h, PAGE_H / 2) > PAGE_H - MARGIN - 6:
        pdf.add_page()
    top = pdf.get_y()
    still.thumbnail((CARD_SIZE_LONG, CARD_SIZE_LONG))
    pdf.image(still, x=MARGIN, y=top, w=width, h=height)
    pdf.set_xy(text_x, top)
    pdf.set_font("Sans", "B", 11)
    pdf.cell(
        text_w,
        6,
        f"Shot {number} · {_clock(start)}–{_clock(start + seconds)} · {seconds} s",
        new_x="LEFT",
        new_y="NEXT",
    )
    pdf.set_font("Sans", "", 10)
    pdf.multi_cell(text_w, 5, text or "(no text)", align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(pdf.get_y(), top + height) + 5)


def export_job_pdf(record: JobRecord, out_path: str | os.PathLike[str]) -> Path:
    """The PDF of a job's storyboard snapshot, with stills from its take when it was downloaded."""
    storyboard = storyboard_from_snapshot(record.storyboard)
    if record.title and storyboard.title == "Untitled":
        storyboard = storyboard.with_title(record.title)
    cost = record.actual_cost_usd if record.actual_cost_usd is not None else record.estimated_cost_usd
    return export_storyboard_pdf(
        storyboard,
        out_path,
        take=record.video_path if record.video_path else None,
        project_path=record.project_path,
        cost_usd=cost,
    )
