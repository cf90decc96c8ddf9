"""The limits profile: every number the model imposes, in one place.

The compiler, the UI counters, the image checks and the local server all read this data;
no other module spells these numbers out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType

MB = 1024 * 1024


@dataclass(frozen=True)
class LimitsProfile:
    """What one model accepts, as data."""

    model: str
    max_shots: int
    max_shot_chars: int
    max_prompt_chars: int
    recommended_prompt_chars: int
    min_total_seconds: int
    max_total_seconds: int
    min_shot_seconds: int
    default_duration: int
    resolutions: tuple[str, ...]
    aspect_ratios: tuple[str, ...]
    default_resolution: str
    default_aspect_ratio: str
    output_sizes: Mapping[tuple[str, str], tuple[int, int]]
    price_per_second_usd: Mapping[str, Decimal]
    first_frame_formats: tuple[str, ...]
    first_frame_extensions: tuple[str, ...]
    first_frame_min_side: int
    first_frame_max_ratio: float
    first_frame_max_bytes: int
    upload_max_bytes: int
    default_link_lifetime_s: int
    shot_keywords: tuple[str, ...] = field(default=("shot", "镜头"))
    # Not a rule of the service: a bound on what we decode (a 13000×13000 PNG takes ~670 MB to
    # open and gigabytes to render); far above any useful first frame.
    first_frame_max_pixels: int = 100_000_000

    def output_size(self, resolution: str, aspect_ratio: str) -> tuple[int, int]:
        """Width and height of the video the service renders for this setting."""
        return self.output_sizes[(resolution, aspect_ratio)]

    def short_side(self, resolution: str) -> int:
        """The shorter side in pixels at a resolution (720 for 720p)."""
        return min(self.output_sizes[(resolution, self.default_aspect_ratio)])

    def shot_char_limit(self, shot_count: int) -> int:
        """A shot's character budget: one shot is the whole (plain) prompt, else the per-shot limit."""
        return self.max_prompt_chars if shot_count <= 1 else self.max_shot_chars

    def shot_char_advisory(self, shot_count: int) -> int:
        """Where a shot's counter turns amber: the recommended prompt length, or 85 % of a shot's."""
        return self.recommended_prompt_chars if shot_count <= 1 else int(self.max_shot_chars * 0.85)

    def total_range_text(self) -> str:
        return f"{self.min_total_seconds}–{self.max_total_seconds} s"


KLING_3_TURBO = LimitsProfile(
    model="kling-3.0-turbo",
    max_shots=6,
    max_shot_chars=512,
    max_prompt_chars=3072,
    recommended_prompt_chars=2500,
    min_total_seconds=3,
    max_total_seconds=15,
    min_shot_seconds=1,
    default_duration=5,
    resolutions=("720p", "1080p"),
    aspect_ratios=("16:9", "9:16", "1:1"),
    default_resolution="720p",
    default_aspect_ratio="16:9",
    output_sizes=MappingProxyType(
        {
            ("720p", "16:9"): (1280, 720),
            ("720p", "9:16"): (720, 1280),
            ("720p", "1:1"): (960, 960),
            ("1080p", "16:9"): (1920, 1080),
            ("1080p", "9:16"): (1080, 1920),
            ("1080p", "1:1"): (1440, 1440),
        }
    ),
    price_per_second_usd=MappingProxyType({"720p": Decimal("0.112"), "1080p": Decimal("0.14")}),
    first_frame_formats=("JPEG", "PNG"),
    first_frame_extensions=(".jpg", ".jpeg", ".png"),
    first_frame_min_side=300,
    first_frame_max_ratio=2.5,
    first_frame_max_bytes=50 * MB,
    upload_max_bytes=20 * MB,
    default_link_lifetime_s=86_400,
)

PROFILES: Mapping[str, LimitsProfile] = MappingProxyType({KLING_3_TURBO.model: KLING_3_TURBO})
DEFAULT_MODEL = KLING_3_TURBO.model


def get_profile(model: str) -> LimitsProfile | None:
    """The profile for a model name, or None when we do not know the model."""
    return PROFILES.get(model)
