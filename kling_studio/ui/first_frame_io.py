"""Blocking image work for the first-frame panel; runs in an executor thread.

Returns plain data and a ``QImage`` (safe off the GUI thread); the panel turns it into a
``QPixmap`` on the GUI thread.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtGui import QImage

from kling_studio.domain.first_frame import FirstFrameCheck


@dataclass(frozen=True)
class Measured:
    check: FirstFrameCheck
    thumbnail: QImage | None


def measure_image(path: str, width: int, height: int) -> Measured:
    """Measure the file against the rules and make a thumbnail fitting ``width``×``height``."""
    # Late: Pillow loads in the worker that measures, not while the window is first painted.
    from PIL import Image, ImageOps

    from kling_studio.services.image_prep import read_first_frame

    check = read_first_frame(path)
    if check.facts is None:
        return Measured(check, None)
    try:
        with Image.open(path) as img:
            img.draft("RGB", (width * 2, height * 2))  # JPEG decodes at a fraction of full size
            picture = ImageOps.exif_transpose(img).convert("RGBA")
            picture.thumbnail((width, height))
            data = picture.tobytes("raw", "RGBA")
            thumb = QImage(data, picture.width, picture.height, picture.width * 4, QImage.Format.Format_RGBA8888)
            return Measured(check, thumb.copy())  # copy: the QImage must own its pixels
    except Exception:  # the check already passed; a thumbnail is a nicety, never a failure
        return Measured(check, None)


def save_pasted_image(image: QImage, folder: Path) -> str:
    """Write a pasted picture (no file of its own) as PNG in ``folder``; returns the new path.

    Runs in the executor: PNG encoding of a large screenshot takes long enough to stutter the UI.
    Raises ``OSError`` when the folder cannot be written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"pasted-{time.strftime('%Y%m%d-%H%M%S')}"
    path = folder / f"{stem}.png"
    n = 1
    while path.exists():  # two pastes in one second must not overwrite each other
        n += 1
        path = folder / f"{stem}-{n}.png"
    # The format is a str in PySide6 6.11 (bytes raises ValueError).
    if not image.save(str(path), "PNG"):  # type: ignore[call-overload]  # stubs say bytes; 6.11 needs str
        raise OSError(f"Could not write {path}")
    return str(path)
