"""First-frame image rules.

Pillow does the reading (in ``services.image_prep``); this module only judges the measured
facts against the limits profile, so the rules are testable without any image.
"""

from __future__ import annotations

from dataclasses import dataclass

from kling_studio.domain.diagnostics import Diagnostic
from kling_studio.domain.limits import MB, LimitsProfile

# Codes for images that could not be measured at all (set by the reader).
FIRST_FRAME_MISSING = "first_frame_missing"
FIRST_FRAME_NOT_IMAGE = "first_frame_not_image"
FIRST_FRAME_TRUNCATED = "first_frame_truncated"
FIRST_FRAME_DECOMPRESSION_BOMB = "first_frame_decompression_bomb"
FIRST_FRAME_UNREADABLE = "first_frame_unreadable"
FIRST_FRAME_URL_INVALID = "first_frame_url_invalid"
# Codes for measured images that break a rule.
FIRST_FRAME_TOO_SMALL = "first_frame_too_small"
FIRST_FRAME_ASPECT_RATIO = "first_frame_aspect_ratio"
FIRST_FRAME_TOO_LARGE = "first_frame_too_large"
FIRST_FRAME_TOO_MANY_PIXELS = "first_frame_too_many_pixels"
# Warnings.
FIRST_FRAME_CONVERTED = "first_frame_converted"
FIRST_FRAME_REENCODED = "first_frame_reencoded"


@dataclass(frozen=True)
class ImageFacts:
    """What was measured of an image file, after applying its EXIF orientation."""

    format: str  # Pillow's format name: "JPEG", "PNG", "WEBP", ...
    width: int
    height: int
    file_bytes: int
    rotated: bool = False  # EXIF orientation swapped or turned the picture

    @property
    def ratio(self) -> float:
        return self.width / self.height if self.height else 0.0

    @property
    def ratio_text(self) -> str:
        return ratio_text(self.width, self.height)


@dataclass(frozen=True)
class FirstFrameCheck:
    """The outcome of reading a first frame: facts when it could be measured, else an error."""

    facts: ImageFacts | None = None
    read_error: Diagnostic | None = None


def ratio_text(width: int, height: int) -> str:
    """A human ratio such as ``1.78:1`` or ``1:2.50``."""
    if width <= 0 or height <= 0:
        return "?"
    if width >= height:
        return f"{width / height:.2f}:1"
    return f"1:{height / width:.2f}"


def check_pixel_count(width: int, height: int, profile: LimitsProfile) -> Diagnostic | None:
    """The picture's size read from its header, judged before anything decodes it."""
    pixels = width * height
    if pixels <= profile.first_frame_max_pixels:
        return None
    return Diagnostic(
        FIRST_FRAME_TOO_MANY_PIXELS,
        f"The first frame is {width}×{height} px ({pixels / 1e6:.1f} megapixels); the limit is "
        f"{profile.first_frame_max_pixels / 1e6:.0f} megapixels. Resize it before attaching.",
    )


def check_image_facts(facts: ImageFacts, profile: LimitsProfile) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """Judge measured facts. Returns (errors, warnings)."""
    errors: list[Diagnostic] = []
    warnings: list[Diagnostic] = []
    size = f"{facts.width}×{facts.height} px"
    too_many = check_pixel_count(facts.width, facts.height, profile)
    if too_many is not None:
        errors.append(too_many)
    if facts.file_bytes > profile.first_frame_max_bytes:
        errors.append(
            Diagnostic(
                FIRST_FRAME_TOO_LARGE,
                f"The first frame is {facts.file_bytes / MB:.1f} MB; the limit is "
                f"{profile.first_frame_max_bytes / MB:.0f} MB. Export a smaller JPEG or PNG.",
            )
        )
    if min(facts.width, facts.height) < profile.first_frame_min_side:
        errors.append(
            Diagnostic(
                FIRST_FRAME_TOO_SMALL,
                f"The first frame is {size}; width and height must each be at least {profile.first_frame_min_side} px.",
            )
        )
    max_ratio = profile.first_frame_max_ratio
    if facts.width > 0 and facts.height > 0:
        long_side, short_side = max(facts.width, facts.height), min(facts.width, facts.height)
        if long_side > short_side * max_ratio:
            errors.append(
                Diagnostic(
                    FIRST_FRAME_ASPECT_RATIO,
                    f"The first frame's aspect ratio is {facts.ratio_text} ({size}); it must be between "
                    f"1:{max_ratio} and {max_ratio}:1. Crop it.",
                )
            )
    if facts.format not in profile.first_frame_formats:
        warnings.append(
            Diagnostic(
                FIRST_FRAME_CONVERTED,
                f"The first frame is {facts.format}; it will be converted to PNG before upload "
                f"(the model takes {' and '.join(profile.first_frame_formats)} only).",
            )
        )
    elif facts.file_bytes > profile.upload_max_bytes and not errors:
        warnings.append(
            Diagnostic(
                FIRST_FRAME_REENCODED,
                f"The first frame is {facts.file_bytes / MB:.1f} MB; it will be re-encoded as a "
                f"high-quality JPEG to fit the {profile.upload_max_bytes / MB:.0f} MB upload limit.",
            )
        )
    return errors, warnings


def check_first_frame_url(url: str) -> Diagnostic | None:
    """A remote first frame must be an https URL."""
    lowered = url.strip().lower()
    if not lowered.startswith("https://") or len(lowered) <= len("https://"):
        return Diagnostic(
            FIRST_FRAME_URL_INVALID,
            f"The first-frame URL must start with https:// (got {url[:80]!r}).",
        )
    return None
