"""First-frame images: measuring them (for the domain's rules) and preparing them for upload.

All functions here block (Pillow decodes the whole picture); callers on an event loop run them
in an executor: ``await loop.run_in_executor(None, read_first_frame, path)``.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from kling_studio.domain import first_frame as ff
from kling_studio.domain.diagnostics import Diagnostic
from kling_studio.domain.limits import KLING_3_TURBO, MB, LimitsProfile

_ROTATING_ORIENTATIONS = {5, 6, 7, 8}
_EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class PreparedImage:
    """Bytes ready for the upload endpoint, and what was done to them."""

    data: bytes
    filename: str
    content_type: str
    notes: tuple[str, ...] = ()


def _orientation(img: Image.Image) -> int:
    try:
        value = img.getexif().get(_EXIF_ORIENTATION, 1)
    except Exception:  # a broken EXIF block must not make the picture unreadable
        return 1
    return value if isinstance(value, int) else 1


@contextlib.contextmanager
def _quiet_pillow() -> Iterator[None]:
    """Our own pixel rule is the one that speaks; Pillow's bomb warning would only be noise."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        yield


def read_first_frame(path: str | os.PathLike[str], profile: LimitsProfile = KLING_3_TURBO) -> ff.FirstFrameCheck:
    """Measure an image file. Never raises for bad files: problems come back as a diagnostic."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        return ff.FirstFrameCheck(read_error=Diagnostic(ff.FIRST_FRAME_MISSING, f"The first frame {p} does not exist."))
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        reason = getattr(exc, "strerror", None) or exc
        return ff.FirstFrameCheck(
            read_error=Diagnostic(ff.FIRST_FRAME_UNREADABLE, f"The first frame {p!r} cannot be read: {reason}.")
        )
    if not p.is_file():
        return ff.FirstFrameCheck(read_error=Diagnostic(ff.FIRST_FRAME_NOT_IMAGE, f"{p} is not a file."))
    try:
        with _quiet_pillow(), Image.open(p) as img:
            fmt = img.format or "unknown"
            width, height = img.size
            # Judge the header's size before decoding anything (reading a PNG's EXIF decodes the
            # whole picture): a 13000×13000 PNG would take ~670 MB.
            orientation = 1
            if ff.check_pixel_count(width, height, profile) is None:
                orientation = _orientation(img)
                img.load()
    except Image.DecompressionBombError as exc:
        return ff.FirstFrameCheck(
            read_error=Diagnostic(
                ff.FIRST_FRAME_DECOMPRESSION_BOMB,
                f"The first frame has too many pixels to open safely ({exc}). Use a picture of at most "
                f"{profile.first_frame_max_pixels / 1e6:.0f} megapixels.",
            )
        )
    except UnidentifiedImageError:
        return ff.FirstFrameCheck(
            read_error=Diagnostic(
                ff.FIRST_FRAME_NOT_IMAGE,
                f"{p.name} is not an image Kling Studio can read ({size} bytes); use a JPEG or PNG.",
            )
        )
    except (OSError, SyntaxError, ValueError) as exc:
        return ff.FirstFrameCheck(
            read_error=Diagnostic(
                ff.FIRST_FRAME_TRUNCATED,
                f"{p.name} is damaged or truncated and cannot be decoded ({exc}). Export it again.",
            )
        )
    rotated = orientation in _ROTATING_ORIENTATIONS
    if rotated:
        width, height = height, width
    return ff.FirstFrameCheck(
        facts=ff.ImageFacts(format=fmt, width=width, height=height, file_bytes=size, rotated=orientation != 1)
    )


def prepare_for_upload(path: str | os.PathLike[str], profile: LimitsProfile = KLING_3_TURBO) -> PreparedImage:
    """The bytes to upload: the original when it already fits, else a converted copy.

    Applies EXIF orientation, converts formats the model does not take to PNG, and
    re-encodes anything over the upload limit as high-quality JPEG.
    """
    p = Path(path)
    raw = p.read_bytes()
    with _quiet_pillow(), Image.open(io.BytesIO(raw)) as img:
        too_many = ff.check_pixel_count(*img.size, profile)
        if too_many is not None:  # refused before anything decodes the picture
            raise ValueError(too_many.message)
        fmt = img.format or ""
        orientation = _orientation(img)
        if fmt in profile.first_frame_formats and orientation == 1 and len(raw) <= profile.upload_max_bytes:
            ctype = "image/jpeg" if fmt == "JPEG" else "image/png"
            return PreparedImage(raw, p.name, ctype)
        notes: list[str] = []
        picture = ImageOps.exif_transpose(img) if orientation != 1 else img.copy()
        if orientation != 1:
            notes.append("applied the EXIF orientation")
    stem = p.stem
    if fmt != "JPEG" and len(raw) <= profile.upload_max_bytes * 4:
        png = _encode(picture, "PNG")
        if len(png) <= profile.upload_max_bytes:
            if fmt != "PNG":
                notes.append(f"converted {fmt or 'the image'} to PNG")
            return PreparedImage(png, f"{stem}.png", "image/png", tuple(notes))
    for quality in (95, 92, 88, 84, 80, 75, 70):
        jpeg = _encode(picture, "JPEG", quality=quality)
        if len(jpeg) <= profile.upload_max_bytes:
            notes.append(f"re-encoded as JPEG (quality {quality}, {len(jpeg) / MB:.1f} MB)")
            return PreparedImage(jpeg, f"{stem}.jpg", "image/jpeg", tuple(notes))
    raise ValueError(
        f"{p.name} stays over {profile.upload_max_bytes / MB:.0f} MB even as a JPEG; resize it before attaching."
    )


def _encode(img: Image.Image, fmt: str, quality: int = 95) -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG":
        if img.mode not in ("RGB", "L"):
            img = img.convert("RGB")
        img.save(buf, "JPEG", quality=quality, optimize=True)
    else:
        if img.mode not in ("RGB", "RGBA", "L", "LA", "P", "I", "I;16"):
            img = img.convert("RGBA")
        img.save(buf, "PNG")
    return buf.getvalue()
