"""The storyboard as a printable contact sheet: PDF, HTML, or any QPrinter.

The PDF file is the storyboard PDF of ``services.storyboard_pdf`` (the same one
``kling-studio export --format pdf`` writes: animatic-card stills, real text, sRGB). HTML and
printing share one HTML layout laid out by QTextDocument with the first-frame thumbnail added as a
document resource; the HTML file embeds the thumbnail as a data URI so it stands alone. Needs a
QGuiApplication (fonts) for HTML and printing; call it from the GUI thread.
"""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt, QUrl
from PySide6.QtGui import QFont, QImage, QPagedPaintDevice, QTextDocument

from kling_studio import __version__
from kling_studio.domain.storyboard import Storyboard, shot_start_times

THUMB_WIDTH = 480  # pixels of the thumbnail kept in the file (shown at about 8 cm)
THUMB_SHOWN_WIDTH = 300  # layout width in the HTML
FIRST_FRAME_URL = "kling-studio:first-frame"
PDF_RESOLUTION = 300
_FORMATS = {".pdf": "pdf", ".html": "html", ".htm": "html"}

_STYLE = """
body { font-family: sans-serif; font-size: 10pt; color: #1d1b26; }
h1 { font-size: 17pt; margin-bottom: 2px; }
p.meta { color: #5b5670; margin-top: 0; }
p.note { color: #8a4b2d; }
table.shots { border-collapse: collapse; width: 100%; }
table.shots th { background: #ece8f5; text-align: left; padding: 5px; border-bottom: 1px solid #b9b2d3; }
table.shots td { padding: 6px 5px; vertical-align: top; border-bottom: 1px solid #ddd8ea; }
th, td.num, td.secs, td.start { white-space: nowrap; }
p.footer { color: #8d88a0; font-size: 8pt; }
"""


class ContactSheetError(ValueError):
    """The contact sheet cannot be written (unknown format, or the file cannot be created)."""


def _fmt_seconds(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


def first_frame_thumbnail(storyboard: Storyboard, width: int = THUMB_WIDTH) -> QImage | None:
    """The local first frame scaled to ``width`` pixels, or None (no frame, a URL, unreadable)."""
    ff = storyboard.first_frame
    if ff is None or ff.path is None:
        return None
    image = QImage(ff.path)
    if image.isNull():
        return None
    if image.width() > width:
        image = image.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation)
    return image


def _image_data_uri(image: QImage) -> str:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "JPEG", 88)  # type: ignore[call-overload]  # the stub says bytes; PySide6 wants str
    buffer.close()
    return "data:image/jpeg;base64," + base64.b64encode(bytes(data.data())).decode("ascii")


def contact_sheet_html(storyboard: Storyboard, *, image_src: str | None = None) -> str:
    """The sheet as HTML. ``image_src`` is where the thumbnail comes from (None: no picture)."""
    e = html.escape
    settings = storyboard.settings
    parts = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8">',
        f"<title>{e(storyboard.title)} — contact sheet</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{e(storyboard.title)}</h1>",
        f'<p class="meta">{len(storyboard.shots)} shots · {storyboard.total_duration} s · '
        f"{e(storyboard.mode)} · {e(settings.resolution)} {e(settings.aspect_ratio)} · {e(settings.model)}</p>",
    ]
    ff = storyboard.first_frame
    if ff is not None:
        if image_src is not None:
            parts.append(
                f'<p><img src="{e(image_src)}" width="{THUMB_SHOWN_WIDTH}" alt="First frame"><br>'
                f'<span class="meta">First frame: {e(os.path.basename(ff.reference))}</span></p>'
            )
        elif ff.url is not None:
            parts.append(f'<p class="meta">First frame (online): {e(ff.url)}</p>')
        else:
            parts.append(f'<p class="note">First frame not found: {e(ff.reference)}</p>')
    parts.append(
        '<table class="shots" width="100%" cellspacing="0" cellpadding="5">'
        '<tr><th width="9%">Shot</th><th width="10%">Starts</th><th width="12%">Seconds</th><th>What happens</th></tr>'
    )
    for number, (shot, start) in enumerate(zip(storyboard.shots, shot_start_times(storyboard.shots), strict=True), 1):
        parts.append(
            f'<tr><td class="num"><b>{number}</b></td><td class="start">{_fmt_seconds(start)}</td>'
            f'<td class="secs">{shot.duration} s</td><td>{e(shot.text)}</td></tr>'
        )
    parts.append("</table>")
    parts.append(f'<p class="footer">Kling Studio {e(__version__)}</p></body></html>')
    return "\n".join(parts)


def contact_sheet_document(storyboard: Storyboard) -> QTextDocument:
    """A laid-out document (thumbnail attached) for QPdfWriter, QPrinter or a print preview."""
    doc = QTextDocument()
    doc.setDocumentMargin(0)
    font = QFont(doc.defaultFont())
    font.setPointSizeF(10)
    doc.setDefaultFont(font)
    thumb = first_frame_thumbnail(storyboard)
    if thumb is not None:
        doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(FIRST_FRAME_URL), thumb)
    doc.setHtml(contact_sheet_html(storyboard, image_src=FIRST_FRAME_URL if thumb is not None else None))
    doc.setMetaInformation(QTextDocument.MetaInformation.DocumentTitle, storyboard.title)
    return doc


def print_contact_sheet(storyboard: Storyboard, device: QPagedPaintDevice) -> None:
    """Lay the sheet out on a paged device (a QPrinter from a print dialog, or a QPdfWriter)."""
    contact_sheet_document(storyboard).print_(device)


def export_pdf(
    storyboard: Storyboard, out_path: str | os.PathLike[str], *, project_path: str | os.PathLike[str] | None = None
) -> Path:
    from kling_studio.services.storyboard_pdf import StoryboardPdfError, export_storyboard_pdf

    try:
        return export_storyboard_pdf(storyboard, out_path, project_path=project_path)
    except StoryboardPdfError as exc:
        raise ContactSheetError(str(exc)) from None


def export_html(storyboard: Storyboard, out_path: str | os.PathLike[str]) -> Path:
    """A self-contained HTML file (the thumbnail is embedded)."""
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    thumb = first_frame_thumbnail(storyboard)
    text = contact_sheet_html(storyboard, image_src=_image_data_uri(thumb) if thumb is not None else None)
    out.write_text(text, encoding="utf-8")
    return out


def export_contact_sheet(
    storyboard: Storyboard,
    out_path: str | os.PathLike[str],
    *,
    fmt: str | None = None,
    project_path: str | os.PathLike[str] | None = None,
) -> Path:
    """Write a PDF or HTML contact sheet, chosen by ``out_path``'s suffix or ``fmt`` ("pdf"/"html")."""
    kind = fmt.lower().lstrip(".") if fmt else _FORMATS.get(Path(out_path).suffix.lower())
    if kind == "pdf":
        return export_pdf(storyboard, out_path, project_path=project_path)
    if kind in ("html", "htm"):
        return export_html(storyboard, out_path)
    raise ContactSheetError(f"Unknown contact sheet format for {Path(out_path).name!r}; use .pdf or .html.")
