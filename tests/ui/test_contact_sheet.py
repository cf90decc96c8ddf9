"""Contact sheets: PDF through Qt's QPdfWriter, self-contained HTML, both from the sample project."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

import kling_studio
from kling_studio.domain.storyboard import FirstFrame, Shot, Storyboard
from kling_studio.services.project_io import load_project
from kling_studio.ui.contact_sheet import (
    THUMB_WIDTH,
    ContactSheetError,
    contact_sheet_document,
    export_contact_sheet,
)

SAMPLE = Path(kling_studio.__file__).parent / "resources" / "sample" / "sample.kling.json"


@pytest.fixture
def sample(qapp: QApplication) -> Storyboard:
    return load_project(SAMPLE)


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.sources += [v or "" for k, v in attrs if k == "src"]


def test_pdf_is_one_a4_page_with_the_first_frame(sample: Storyboard, tmp_path: Path) -> None:
    out = export_contact_sheet(sample, tmp_path / "sheet.pdf")
    data = out.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type /Page\b", data)) == 1
    assert re.search(rb"/MediaBox \[0 0 595(\.\d+)? 84[12](\.\d+)?\]", data)  # A4
    assert b"/Subtype /Image" in data
    if shutil.which("pdftotext"):  # poppler, when installed, reads the words back
        raw = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
        text = " ".join(unicodedata.normalize("NFKC", raw).split())  # NFKC undoes ligatures such as "fi"
        assert "Sunrise over the bay" in text
        for shot in sample.shots:
            assert " ".join(shot.text.split())[:30] in text


def test_document_lists_number_start_seconds_and_text_of_every_shot(sample: Storyboard) -> None:
    text = contact_sheet_document(sample).toPlainText()
    for number, (start, shot) in enumerate(zip(["0:00", "0:04", "0:08", "0:11"], sample.shots, strict=True), 1):
        row = re.search(rf"\b{number}\s+{start}\s+{shot.duration} s\s+(.+)", text)
        assert row is not None, text
        assert row.group(1).startswith(shot.text[:20])
    assert "first-frame.png" in text


def test_html_is_self_contained_and_escapes_shot_text(qapp: QApplication, tmp_path: Path) -> None:
    frame = load_project(SAMPLE).first_frame
    assert frame is not None
    board = Storyboard(
        title="Tags & <things>",
        shots=(Shot("<script>alert(1)</script> a cat", 2), Shot("a dog", 3)),
        first_frame=frame,
    )
    page = export_contact_sheet(board, tmp_path / "sheet.html").read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; a cat" in page
    assert "Tags &amp; &lt;things&gt;" in page
    parser = _Images()
    parser.feed(page)
    assert len(parser.sources) == 1
    prefix, encoded = parser.sources[0].split(",", 1)
    assert prefix == "data:image/jpeg;base64"
    thumb = QImage.fromData(base64.b64decode(encoded))
    assert thumb.width() == THUMB_WIDTH
    assert thumb.height() == THUMB_WIDTH * 720 // 1280


def test_a_missing_or_online_first_frame_is_named_not_drawn(qapp: QApplication, tmp_path: Path) -> None:
    missing = Storyboard(title="M", shots=(Shot("x", 3),), first_frame=FirstFrame(path=str(tmp_path / "gone.png")))
    online = Storyboard(title="O", shots=(Shot("x", 3),), first_frame=FirstFrame(url="https://example.com/f.png"))
    assert "First frame not found" in contact_sheet_document(missing).toPlainText()
    assert "https://example.com/f.png" in contact_sheet_document(online).toPlainText()
    page = export_contact_sheet(online, tmp_path / "o.html").read_text(encoding="utf-8")
    assert "<img" not in page
    assert export_contact_sheet(missing, tmp_path / "m.pdf").stat().st_size > 0


def test_format_by_suffix_or_explicit_and_unknown_refused(sample: Storyboard, tmp_path: Path) -> None:
    assert export_contact_sheet(sample, tmp_path / "sheet.out", fmt="pdf").read_bytes().startswith(b"%PDF")
    with pytest.raises(ContactSheetError):
        export_contact_sheet(sample, tmp_path / "sheet.docx")
